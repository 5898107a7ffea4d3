// The WAL scanner on synthetic segments written by a small WAL writer below (page headers, continuation
// records, xl_prev links, CRC-32C), for the edge cases a real server produces rarely: headers split across
// pages, records crossing segments, abandoned contrecords, old image flag layouts, corruption.
import { describe, expect, it } from 'vitest';
import { isLifeboatError } from '../../src/errors/index.js';
import { formatLsn, lsnFromBigInt, type Lsn } from '../../src/postgres/lsn.js';
import { segmentStartLsn, toTimelineId, walSegmentName, type WalSegmentName } from '../../src/postgres/wal-segment.js';
import { crc32c } from '../../src/postgres/wal-scan/crc32c.js';
import { createWalScanner, scanWalSegment, type WalScanSummary } from '../../src/postgres/wal-scan/index.js';

const PAGE = 8192;
const MIB = 1024 * 1024;
const PG_EPOCH_MS = Date.UTC(2000, 0, 1);
const MAGIC_PG14 = 0xd10d;
const MAGIC_PG15 = 0xd110;
const XLP_FIRST_IS_CONTRECORD = 0x1;
const XLP_LONG_HEADER = 0x2;
const XLP_FIRST_IS_OVERWRITE_CONTRECORD = 0x8;
const RM_XLOG = 0;
const RM_XACT = 1;
const RM_HEAP = 10;
const XLOG_NOOP = 0x20;
const XLOG_SWITCH = 0x40;
const XLOG_RESTORE_POINT = 0x70;
const XACT_COMMIT = 0x00;
const XACT_PREPARE = 0x10;
const XACT_ABORT = 0x20;
const XACT_COMMIT_PREPARED = 0x30;
const XACT_ABORT_PREPARED = 0x40;
const XACT_HAS_INFO = 0x80;

const align8 = (n: number): number => (n + 7) & ~7;
const u16 = (value: number): number[] => [value & 0xff, (value >>> 8) & 0xff];
const u32 = (value: number): number[] => [...u16(value & 0xffff), ...u16(value >>> 16)];
const u64 = (value: bigint): number[] => [...u32(Number(value & 0xffffffffn)), ...u32(Number(value >> 32n))];

/** TimestampTz (microseconds since 2000-01-01 UTC) of an ISO instant plus extra microseconds. */
function pgTime(iso: string, extraMicros = 0): bigint {
  return BigInt(Date.parse(iso) - PG_EPOCH_MS) * 1000n + BigInt(extraMicros);
}

/** A header area announcing `main` as the only data, then `main` (what XLogRecordAssemble makes). */
function mainDataOnly(main: number[]): Uint8Array {
  const header = main.length <= 255 ? [255, main.length] : [254, ...u32(main.length)];
  return Uint8Array.from([...header, ...main]);
}

const commitBody = (time: bigint): Uint8Array => mainDataOnly(u64(time));
function restorePointBody(time: bigint, name: string): Uint8Array {
  const nameBytes = new Array<number>(64).fill(0);
  Buffer.from(name, 'utf8').forEach((byte, index) => (nameBytes[index] = byte));
  return mainDataOnly([...u64(time), ...nameBytes]);
}

interface AppendOptions {
  /** xl_prev to write instead of the true previous record. */
  prev?: bigint;
  /** Write only the record's first bytes up to the page end, then mark the next page "overwrite contrecord". */
  abandonAtPageEnd?: boolean;
}

/** Writes WAL the way the server lays it out, over `segmentCount` consecutive segments. */
class WalWriter {
  readonly bytes: Uint8Array;
  /** Next write offset from the start of the first segment. */
  position = 0;
  private prevStart: number | undefined;
  private nextPageInfo = 0;
  readonly startLsn: bigint;

  constructor(
    readonly options: { segmentSizeBytes: number; segmentCount: number; firstSegno: bigint; magic?: number; timeline?: number; sysid?: bigint },
  ) {
    this.bytes = new Uint8Array(options.segmentSizeBytes * options.segmentCount);
    this.startLsn = options.firstSegno * BigInt(options.segmentSizeBytes);
  }

  segmentName(index: number): WalSegmentName {
    return walSegmentName(toTimelineId(this.options.timeline ?? 1), this.options.firstSegno + BigInt(index), this.options.segmentSizeBytes);
  }

  segment(index: number): Uint8Array {
    const size = this.options.segmentSizeBytes;
    return this.bytes.slice(index * size, (index + 1) * size);
  }

  lsn(offset: number): Lsn {
    return lsnFromBigInt(this.startLsn + BigInt(offset));
  }

  /** Appends a record; returns its start and its MAXALIGNed end (offsets from the first segment's start). */
  append(rmid: number, info: number, body: Uint8Array, options: AppendOptions = {}): { start: number; end: number } {
    if (this.position % PAGE === 0) this.writePageHeader(0);
    const start = this.position;
    const record = new Uint8Array(24 + body.length);
    const prev = options.prev ?? (this.prevStart === undefined ? 0n : this.startLsn + BigInt(this.prevStart));
    record.set([...u32(record.length), ...u32(700), ...u64(prev), info, rmid, 0, 0]);
    record.set(body, 24);
    const crcInput = new Uint8Array(body.length + 20);
    crcInput.set(body);
    crcInput.set(record.subarray(0, 20), body.length);
    record.set(u32(crc32c(crcInput)), 20);
    let written = 0;
    while (written < record.length) {
      if (this.position % PAGE === 0) {
        if (options.abandonAtPageEnd) {
          this.nextPageInfo = XLP_FIRST_IS_OVERWRITE_CONTRECORD;
          return { start, end: this.position };
        }
        this.writePageHeader(record.length - written);
      }
      const count = Math.min(record.length - written, PAGE - (this.position % PAGE));
      this.bytes.set(record.subarray(written, written + count), this.position);
      this.position += count;
      written += count;
    }
    this.position = align8(this.position);
    this.prevStart = start;
    return { start, end: this.position };
  }

  /** Appends filler records (heap-like, uninterpreted) until the next record would start at `target`. */
  fillTo(target: number): void {
    for (;;) {
      const needed = this.usableBytes(this.position, target);
      if (needed === 0) return;
      if (needed < 32) throw new Error(`cannot fill ${needed} bytes`);
      let size = Math.min(needed, 4000);
      if (needed - size > 0 && needed - size < 32) size -= 32;
      this.append(RM_HEAP, 0x00, longMainData(new Uint8Array(size - 24 - 5).fill(0x5a)));
    }
  }

  /** Flips one bit at `offset`. */
  corrupt(offset: number): void {
    this.bytes[offset]! ^= 0x10;
  }

  private usableBytes(from: number, to: number): number {
    let usable = 0;
    for (let at = from; at < to; ) {
      if (at % PAGE === 0) at += this.headerSize(at);
      const pageEnd = at - (at % PAGE) + PAGE;
      usable += Math.min(pageEnd, to) - at;
      at = pageEnd;
    }
    return usable;
  }

  private headerSize(offset: number): number {
    return offset % this.options.segmentSizeBytes === 0 ? 40 : 24;
  }

  private writePageHeader(remainingBytes: number): void {
    const long = this.position % this.options.segmentSizeBytes === 0;
    const info = (remainingBytes > 0 ? XLP_FIRST_IS_CONTRECORD : 0) | (long ? XLP_LONG_HEADER : 0) | this.nextPageInfo;
    this.nextPageInfo = 0;
    const header = [...u16(this.options.magic ?? MAGIC_PG15), ...u16(info), ...u32(this.options.timeline ?? 1), ...u64(this.startLsn + BigInt(this.position)), ...u32(remainingBytes), 0, 0, 0, 0];
    if (long) header.push(...u64(this.options.sysid ?? 7_300_000_000_000_000_001n), ...u32(this.options.segmentSizeBytes), ...u32(PAGE));
    this.bytes.set(header, this.position);
    this.position += header.length;
  }
}

/** A header area announcing `main` with the 5-byte long data header, then `main`. */
function longMainData(main: Uint8Array): Uint8Array {
  const body = new Uint8Array(5 + main.length);
  body.set([254, ...u32(main.length)]);
  body.set(main, 5);
  return body;
}

const oneMiB = (segmentCount = 1, extra: Partial<WalWriter['options']> = {}): WalWriter =>
  new WalWriter({ segmentSizeBytes: MIB, segmentCount, firstSegno: 0x1234n, ...extra });

/** The summary without the opaque carry, for equality checks. */
function plain(summary: WalScanSummary): Omit<WalScanSummary, 'carry'> {
  const { carry: _carry, ...rest } = summary;
  return rest;
}

describe('scanWalSegment on synthetic WAL', () => {
  it('reads commit and abort timestamps and restore points, and stops at the zero tail', () => {
    const wal = oneMiB();
    const first = wal.append(RM_XACT, XACT_COMMIT, commitBody(pgTime('2026-03-01T10:00:00.000Z', 123)));
    wal.append(RM_HEAP, 0x00, mainDataOnly([1, 2, 3]));
    wal.append(RM_XACT, XACT_ABORT, commitBody(pgTime('2026-03-01T10:00:01.000Z')));
    wal.append(RM_XACT, XACT_PREPARE, commitBody(pgTime('2030-01-01T00:00:00Z'))); // not a transaction end
    wal.append(RM_XACT, XACT_COMMIT_PREPARED, commitBody(pgTime('2026-03-01T10:00:02.000Z')));
    wal.append(RM_XACT, XACT_ABORT_PREPARED, commitBody(pgTime('2026-03-01T10:00:03.000Z')));
    const point = wal.append(RM_XLOG, XLOG_RESTORE_POINT, restorePointBody(pgTime('2026-03-01T10:00:04.000Z', 999), 'before-migration'));
    const last = wal.append(RM_XACT, XACT_COMMIT | XACT_HAS_INFO, mainDataOnly([...u64(pgTime('2026-03-01T10:00:05.000Z', 999_999)), ...u32(0)]));
    const tail = wal.append(RM_XLOG, XLOG_NOOP, new Uint8Array(0));

    const summary = scanWalSegment(wal.segment(0), wal.segmentName(0), { segmentSizeBytes: MIB });
    expect(plain(summary)).toEqual({
      segment: wal.segmentName(0),
      timeline: 1,
      systemIdentifier: '7300000000000000001',
      pgMajor: 15,
      firstRecordLsn: wal.lsn(first.start),
      endLsn: wal.lsn(tail.end),
      firstXactTime: new Date('2026-03-01T10:00:00.000Z'),
      lastXactTime: new Date('2026-03-01T10:00:05.999Z'),
      lastXactLsn: wal.lsn(last.end),
      xactCount: 5,
      restorePoints: [{ name: 'before-migration', time: new Date('2026-03-01T10:00:04.000Z'), lsn: wal.lsn(point.end) }],
      complete: false,
      invalidReason: `invalid record length at ${formatLsn(wal.lsn(tail.end))}: expected at least 24, got 0`,
    });
    expect(first.start).toBe(40);
    expect(summary.carry).toBeUndefined();
  });

  it('treats an XLOG_SWITCH as the end of the segment: complete, endLsn at the next segment', () => {
    const wal = oneMiB();
    wal.append(RM_XACT, XACT_COMMIT, commitBody(pgTime('2026-03-01T10:00:00Z')));
    wal.append(RM_XLOG, XLOG_SWITCH, new Uint8Array(0));
    const summary = scanWalSegment(wal.segment(0).subarray(0, 3 * PAGE), wal.segmentName(0), { segmentSizeBytes: MIB });
    expect(summary).toMatchObject({ complete: true, endLsn: wal.lsn(MIB), xactCount: 1 });
    expect(summary.invalidReason).toBeUndefined();
    expect(summary.carry?.nextSegmentStartLsn).toBe(wal.lsn(MIB));
  });

  it('reads records whose header or body spans pages, and CRC-checks a 3 MiB record', () => {
    const wal = new WalWriter({ segmentSizeBytes: 16 * MIB, segmentCount: 1, firstSegno: 3n });
    wal.fillTo(PAGE - 8); // header split 8 | 16
    wal.append(RM_XACT, XACT_COMMIT, commitBody(pgTime('2026-03-01T10:00:00Z')));
    wal.fillTo(2 * PAGE - 16); // header split 16 | 8
    wal.append(RM_XACT, XACT_ABORT, commitBody(pgTime('2026-03-01T10:00:01Z')));
    wal.fillTo(3 * PAGE - 32); // main data split across the page boundary
    const rp = wal.append(RM_XLOG, XLOG_RESTORE_POINT, restorePointBody(pgTime('2026-03-01T10:00:02Z'), 'split'));
    const big = wal.append(RM_HEAP, 0x00, longMainData(new Uint8Array(3 * MIB).fill(7)));
    const last = wal.append(RM_XACT, XACT_COMMIT, commitBody(pgTime('2026-03-01T10:00:03Z')));

    const summary = scanWalSegment(wal.segment(0), wal.segmentName(0));
    expect(summary).toMatchObject({ xactCount: 3, endLsn: wal.lsn(last.end), lastXactTime: new Date('2026-03-01T10:00:03Z') });
    expect(summary.restorePoints).toEqual([{ name: 'split', time: new Date('2026-03-01T10:00:02Z'), lsn: wal.lsn(rp.end) }]);

    wal.corrupt(big.start + 2 * MIB);
    const corrupted = scanWalSegment(wal.segment(0), wal.segmentName(0));
    expect(corrupted).toMatchObject({ xactCount: 2, endLsn: wal.lsn(rp.end), complete: false });
    expect(corrupted.invalidReason).toBe(`incorrect resource manager data checksum in record at ${formatLsn(wal.lsn(big.start))}`);
  });

  it('stops at a recycled page (old pageaddr), dropping the record that runs into it', () => {
    const old = oneMiB(1, { firstSegno: 0x1230n });
    old.fillTo(MIB - 64);
    const wal = oneMiB();
    const kept = wal.append(RM_XACT, XACT_COMMIT, commitBody(pgTime('2026-03-01T10:00:00Z')));
    wal.fillTo(PAGE - 24);
    wal.append(RM_XACT, XACT_COMMIT, commitBody(pgTime('2026-03-01T10:00:01Z'))); // its data is on page 2
    const recycled = wal.segment(0);
    recycled.set(old.segment(0).subarray(PAGE), PAGE);
    const summary = scanWalSegment(recycled, wal.segmentName(0), { segmentSizeBytes: MIB });
    expect(summary.xactCount).toBe(1);
    expect(summary.lastXactLsn).toBe(wal.lsn(kept.end));
    expect(summary.endLsn).toBe(wal.lsn(PAGE - 24));
    expect(summary.invalidReason).toBe('unexpected pageaddr 1/23002000 at offset 8192 (typically a recycled segment\'s old page)');
    expect(summary.complete).toBe(false);
  });

  it('stops at a record whose xl_prev does not point at the previous record', () => {
    const wal = oneMiB();
    const good = wal.append(RM_XACT, XACT_COMMIT, commitBody(pgTime('2026-03-01T10:00:00Z')));
    wal.append(RM_XACT, XACT_COMMIT, commitBody(pgTime('2026-03-01T10:00:01Z')), { prev: 0x42n });
    const summary = scanWalSegment(wal.segment(0), wal.segmentName(0), { segmentSizeBytes: MIB });
    expect(summary).toMatchObject({ xactCount: 1, endLsn: wal.lsn(good.end) });
    expect(summary.invalidReason).toMatch(/^record with incorrect prev-link 0\/42 at /);
  });

  it('gives the same summary whatever the chunking of the stream', () => {
    const wal = oneMiB();
    for (let i = 0; i < 400; i++) {
      wal.append(RM_HEAP, 0x00, mainDataOnly(new Array<number>(i % 200).fill(i & 0xff)));
      wal.append(RM_XACT, XACT_COMMIT, commitBody(pgTime('2026-03-01T10:00:00Z', i * 1000)));
      if (i % 97 === 0) wal.append(RM_XLOG, XLOG_RESTORE_POINT, restorePointBody(pgTime('2026-03-01T10:00:00Z', i * 1000), `rp-${i}`));
    }
    const bytes = wal.segment(0);
    const whole = plain(scanWalSegment(bytes, wal.segmentName(0), { segmentSizeBytes: MIB }));
    expect(whole.xactCount).toBe(400);
    for (const sizes of [[1], [7, 8185, 3], [8191], [8193, 50_000], [65_536]]) {
      const scanner = createWalScanner(wal.segmentName(0), { segmentSizeBytes: MIB });
      for (let at = 0, i = 0; at < bytes.length; i++) {
        const size = sizes[i % sizes.length]!;
        scanner.update(Buffer.from(bytes.subarray(at, at + size)));
        at += size;
      }
      expect(plain(scanner.finish())).toEqual(whole);
    }
  });

  it('reports a truncated copy and a fresh zero-filled .partial file', () => {
    const wal = oneMiB();
    const first = wal.append(RM_XACT, XACT_COMMIT, commitBody(pgTime('2026-03-01T10:00:00Z')));
    const second = wal.append(RM_XACT, XACT_COMMIT, commitBody(pgTime('2026-03-01T10:00:01Z')));
    const truncated = scanWalSegment(wal.segment(0).subarray(0, second.start + 30), wal.segmentName(0), { segmentSizeBytes: MIB });
    expect(truncated).toMatchObject({ xactCount: 1, endLsn: wal.lsn(first.end), complete: false, invalidReason: `the bytes end at offset ${second.start + 30}, before the segment's end` });

    const zeros = scanWalSegment(new Uint8Array(MIB), wal.segmentName(0), { segmentSizeBytes: MIB });
    expect(plain(zeros)).toEqual({
      segment: wal.segmentName(0),
      timeline: 1,
      endLsn: wal.lsn(0),
      xactCount: 0,
      restorePoints: [],
      complete: false,
      invalidReason: 'invalid magic number 0000 at offset 0',
    });
    expect(scanWalSegment(new Uint8Array(0), wal.segmentName(0), { segmentSizeBytes: MIB }).endLsn).toBe(wal.lsn(0));
  });

  it('refuses a wrong segment size and bytes beyond the segment', () => {
    const wal = oneMiB();
    wal.append(RM_XACT, XACT_COMMIT, commitBody(pgTime('2026-03-01T10:00:00Z')));
    const name = walSegmentName(toTimelineId(1), 0x1234n / 2n, 2 * MIB);
    expect(() => scanWalSegment(wal.segment(0), name, { segmentSizeBytes: 2 * MIB })).toThrow(/written with 1048576-byte segments, not 2097152/);
    let error: unknown;
    try {
      scanWalSegment(new Uint8Array(MIB + 1), wal.segmentName(0), { segmentSizeBytes: MIB });
    } catch (caught) {
      error = caught;
    }
    expect(isLifeboatError(error, 'objectCorrupted')).toBe(true);
    expect(() => scanWalSegment(new Uint8Array(0), wal.segmentName(0), { segmentSizeBytes: 3 * MIB })).toThrow(/is not a wal segment size/);
  });
});

describe('records crossing segment boundaries', () => {
  it('skips a continuation at the start, and with the carry finishes, checks and counts the crossing record', () => {
    const wal = oneMiB(2);
    wal.append(RM_XACT, XACT_COMMIT, commitBody(pgTime('2026-03-01T10:00:00Z')));
    wal.fillTo(MIB - 16); // the commit's header is split across the two segments
    const crossing = wal.append(RM_XACT, XACT_COMMIT, commitBody(pgTime('2026-03-01T10:00:01Z')));
    const after = wal.append(RM_XACT, XACT_ABORT, commitBody(pgTime('2026-03-01T10:00:02Z')));

    const first = scanWalSegment(wal.segment(0), wal.segmentName(0), { segmentSizeBytes: MIB });
    expect(first).toMatchObject({ complete: true, xactCount: 1, endLsn: wal.lsn(crossing.start) });
    expect(first.carry?.pendingRecord).toBeDefined();

    const alone = scanWalSegment(wal.segment(1), wal.segmentName(1), { segmentSizeBytes: MIB });
    expect(alone).toMatchObject({ xactCount: 1, firstRecordLsn: wal.lsn(after.start), firstXactTime: new Date('2026-03-01T10:00:02Z') });

    const chained = scanWalSegment(wal.segment(1), wal.segmentName(1), { segmentSizeBytes: MIB, continueFrom: first.carry });
    expect(chained).toMatchObject({
      xactCount: 2,
      firstRecordLsn: wal.lsn(after.start),
      firstXactTime: new Date('2026-03-01T10:00:01Z'),
      lastXactTime: new Date('2026-03-01T10:00:02Z'),
      endLsn: wal.lsn(after.end),
    });

    wal.corrupt(MIB + 40 + 4); // inside the crossing record's tail
    const broken = scanWalSegment(wal.segment(1), wal.segmentName(1), { segmentSizeBytes: MIB, continueFrom: first.carry });
    expect(broken).toMatchObject({ xactCount: 0, endLsn: wal.lsn(MIB), complete: false });
    expect(broken.invalidReason).toMatch(/^incorrect resource manager data checksum/);
  });

  it('checks the first record of the next segment against the carried xl_prev', () => {
    const wal = oneMiB(2);
    wal.fillTo(MIB - 32);
    wal.append(RM_XLOG, XLOG_SWITCH, new Uint8Array(0));
    wal.position = MIB;
    const next = wal.append(RM_XACT, XACT_COMMIT, commitBody(pgTime('2026-03-01T10:00:00Z')), { prev: 0x99n });
    const first = scanWalSegment(wal.segment(0), wal.segmentName(0), { segmentSizeBytes: MIB });
    expect(first).toMatchObject({ complete: true, endLsn: wal.lsn(MIB) });
    const chained = scanWalSegment(wal.segment(1), wal.segmentName(1), { segmentSizeBytes: MIB, continueFrom: first.carry });
    expect(chained.invalidReason).toBe(`record with incorrect prev-link 0/99 at ${formatLsn(wal.lsn(next.start))}`);
    expect(scanWalSegment(wal.segment(1), wal.segmentName(1), { segmentSizeBytes: MIB }).xactCount).toBe(1);
    expect(() => scanWalSegment(wal.segment(0), wal.segmentName(0), { segmentSizeBytes: MIB, continueFrom: first.carry })).toThrow(/not into segment/);
  });

  it('carries a record through a segment that is all continuation', () => {
    const wal = oneMiB(3);
    wal.fillTo(MIB - 512);
    // A 1.5 MiB commit record (think many subtransactions) from the end of segment 0 into segment 2.
    const main = new Uint8Array(MIB + MIB / 2).fill(1);
    main.set(u64(pgTime('2026-03-01T10:00:07Z')));
    const huge = wal.append(RM_XACT, XACT_COMMIT, longMainData(main));
    const carries: (WalScanSummary['carry'] | undefined)[] = [undefined];
    const summaries = [0, 1, 2].map((index) => {
      const summary = scanWalSegment(wal.segment(index), wal.segmentName(index), { segmentSizeBytes: MIB, continueFrom: carries[index] });
      carries.push(summary.carry);
      return summary;
    });
    expect(summaries[1]).toMatchObject({ complete: true, xactCount: 0, endLsn: wal.lsn(MIB) });
    expect(summaries[1]!.firstRecordLsn).toBeUndefined();
    expect(summaries[2]).toMatchObject({ complete: false, xactCount: 1, lastXactLsn: wal.lsn(huge.end), endLsn: wal.lsn(huge.end) });
    const alone = scanWalSegment(wal.segment(2), wal.segmentName(2), { segmentSizeBytes: MIB });
    expect(alone).toMatchObject({ xactCount: 0, endLsn: wal.lsn(huge.end) });
  });

  it('skips a record abandoned by crash recovery (XLP_FIRST_IS_OVERWRITE_CONTRECORD)', () => {
    const wal = oneMiB();
    wal.fillTo(PAGE - 64);
    const kept = wal.append(RM_XACT, XACT_COMMIT, commitBody(pgTime('2026-03-01T10:00:00Z')));
    wal.append(RM_HEAP, 0x00, mainDataOnly(new Array<number>(200).fill(3)), { abandonAtPageEnd: true });
    // The record written after recovery links back to the last complete record.
    const afterCrash = wal.append(RM_XACT, XACT_COMMIT, commitBody(pgTime('2026-03-01T10:05:00Z')), { prev: wal.startLsn + BigInt(kept.start) });
    const summary = scanWalSegment(wal.segment(0), wal.segmentName(0), { segmentSizeBytes: MIB });
    expect(afterCrash.start).toBe(PAGE + 24);
    expect(summary).toMatchObject({ xactCount: 2, lastXactTime: new Date('2026-03-01T10:05:00Z'), endLsn: wal.lsn(afterCrash.end) });
  });
});

describe('block references before the main data', () => {
  // A commit record carrying a block reference with a compressed full-page image, an origin and a
  // toplevel xid: the scanner must walk past all of them to find xact_time.
  function commitWithImage(imageInfo: number, withHoleLength: boolean): Uint8Array {
    const image = new Array<number>(100).fill(0xee);
    const blockData = [1, 2, 3, 4];
    const main = u64(pgTime('2026-03-01T12:34:56.789Z'));
    const header = [
      0, 0x10 | 0x20, ...u16(blockData.length), // block 0: HAS_IMAGE | HAS_DATA, 4 data bytes
      ...u16(image.length), ...u16(50), imageInfo, ...(withHoleLength ? u16(8000) : []),
      ...u32(1663), ...u32(5), ...u32(16384), ...u32(7), // RelFileNode, BlockNumber
      253, ...u16(3), // origin
      252, ...u32(900), // toplevel xid
      255, main.length,
    ];
    return Uint8Array.from([...header, ...image, ...blockData, ...main]);
  }

  const scanOne = (magic: number, body: Uint8Array): WalScanSummary => {
    const wal = oneMiB(1, { magic });
    wal.append(RM_XACT, XACT_COMMIT, body);
    return scanWalSegment(wal.segment(0), wal.segmentName(0), { segmentSizeBytes: MIB });
  };
  const expected = new Date('2026-03-01T12:34:56.789Z');
  const segmentStart = (name: WalSegmentName): Lsn => segmentStartLsn(name, MIB);

  it('PostgreSQL 15+: compressed (pglz 0x04) with hole carries hole_length; 0x02 is APPLY, not compression', () => {
    expect(scanOne(MAGIC_PG15, commitWithImage(0x01 | 0x04, true))).toMatchObject({ pgMajor: 15, xactCount: 1, lastXactTime: expected });
    expect(scanOne(MAGIC_PG15, commitWithImage(0x01 | 0x02, false))).toMatchObject({ xactCount: 1, lastXactTime: expected });
  });

  it('PostgreSQL 14: 0x02 is BKPIMAGE_IS_COMPRESSED', () => {
    expect(scanOne(MAGIC_PG14, commitWithImage(0x01 | 0x02, true))).toMatchObject({ pgMajor: 14, xactCount: 1, lastXactTime: expected });
  });

  it('ends valid WAL at a commit record whose header area does not add up, as DecodeXLogRecord does', () => {
    const summary = scanOne(MAGIC_PG15, commitWithImage(0x01 | 0x02, true)); // PG14 layout read as PG15
    expect(summary).toMatchObject({ xactCount: 0, endLsn: segmentStart(summary.segment) });
    expect(summary.invalidReason).toMatch(/^record with invalid length at /);
  });
});
