// The WAL scanner's building blocks: CRC-32C against published check values, TimestampTz conversion at
// microsecond edges, and the header-area walk that finds a record's main data.
import { describe, expect, it } from 'vitest';
import { crc32c, CRC32C_INIT, finishCrc32c, updateCrc32c } from '../../src/postgres/wal-scan/crc32c.js';
import { parseMainDataLength } from '../../src/postgres/wal-scan/parse-main-data-length.js';
import { pgTimestampToUnixMs, readPgTimestamp } from '../../src/postgres/wal-scan/pg-timestamp.js';

describe('crc32c', () => {
  it('matches the CRC-32C check value and the RFC 3720 (iSCSI) test vectors', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
  });

  it('gives the same value however the input is split', () => {
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7919) & 0xff);
    const whole = crc32c(bytes);
    for (const cut of [1, 7, 8, 9, 500, 999]) {
      const running = updateCrc32c(updateCrc32c(CRC32C_INIT, bytes, 0, cut), bytes, cut, bytes.length);
      expect(finishCrc32c(running)).toBe(whole);
    }
  });
});

describe('pg timestamps', () => {
  const le64 = (value: bigint): Uint8Array => {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigInt64(0, value, true);
    return bytes;
  };

  it('converts microseconds since 2000-01-01 exactly, truncating to the millisecond', () => {
    expect(readPgTimestamp(le64(0n), 0).toISOString()).toBe('2000-01-01T00:00:00.000Z');
    // 2026-11-29 13:45:12.123999 UTC: beyond 2^53 microseconds-since-1970 precision concerns, exact here.
    const micros = BigInt(Date.parse('2026-11-29T13:45:12.123Z') - Date.UTC(2000, 0, 1)) * 1000n + 999n;
    expect(readPgTimestamp(le64(micros), 0).toISOString()).toBe('2026-11-29T13:45:12.123Z');
    expect(readPgTimestamp(le64(-1n), 0).toISOString()).toBe('1999-12-31T23:59:59.999Z');
  });

  it('agrees with exact BigInt floor division across three centuries', () => {
    let seed = 12345;
    const random32 = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (let i = 0; i < 20_000; i++) {
      const micros = (BigInt(random32()) * 4_294_967_296n + BigInt(random32())) % 10_000_000_000_000_000n - 3_000_000_000_000_000n;
      const unsigned = BigInt.asUintN(64, micros);
      const high = Number(BigInt.asIntN(32, unsigned >> 32n));
      const low = Number(unsigned & 0xffffffffn);
      const floorMs = micros >= 0n || micros % 1000n === 0n ? micros / 1000n : micros / 1000n - 1n;
      expect(pgTimestampToUnixMs(high, low)).toBe(Number(floorMs) + Date.UTC(2000, 0, 1));
    }
  });
});

describe('parseMainDataLength', () => {
  it('finds short and long main data headers and rejects lengths that do not add up', () => {
    expect(parseMainDataLength(Uint8Array.from([255, 3, 1, 2, 3]), 0, 5, 5, 0x1c)).toBe(3);
    expect(parseMainDataLength(Uint8Array.from([254, 2, 0, 0, 0, 9, 9]), 0, 7, 7, 0x1c)).toBe(2);
    expect(parseMainDataLength(Uint8Array.from([255, 4, 1, 2, 3]), 0, 5, 5, 0x1c)).toBe(-1);
    expect(parseMainDataLength(Uint8Array.from([99, 0]), 0, 2, 2, 0x1c)).toBe(-1);
    // A block reference with data only, SAME_REL absent: header 1+3+12+4, then 2 data bytes, no main data.
    const blockOnly = Uint8Array.from([0, 0x20, 2, 0, ...new Array<number>(16).fill(0), 7, 7]);
    expect(parseMainDataLength(blockOnly, 0, blockOnly.length, blockOnly.length, 0x1c)).toBe(0);
  });

  it('refuses to read past the bytes it was given', () => {
    const bytes = Uint8Array.from([0, 0x20, 2, 0, ...new Array<number>(16).fill(0), 255, 8]);
    expect(parseMainDataLength(bytes, 0, 10, 32, 0x1c)).toBe(-1);
    expect(parseMainDataLength(bytes, 0, bytes.length, 32, 0x1c)).toBe(8);
  });
});
