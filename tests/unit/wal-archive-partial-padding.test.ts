// A .partial that pg_receivewal left short (killed while zero-filling it) is completed to a full segment, which
// pg_receivewal accepts again; a full or empty one, or a healthy .partial holding WAL, is left as it is.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { repairPartialPadding } from '../../src/backup/wal-archive/repair-partial-padding.js';
import type { WalSegmentName } from '../../src/postgres/index.js';

const SEGMENT = '000000010000000000000004' as WalSegmentName;
const SEGMENT_BYTES = 16 * 1024 * 1024;
const dirs: string[] = [];

function spoolWith(content: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'lb-spool-'));
  dirs.push(dir);
  writeFileSync(join(dir, `${SEGMENT}.partial`), content);
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('repairPartialPadding', () => {
  it('zero-fills a short .partial to a full segment, keeping its bytes, and reports the old size', async () => {
    const dir = spoolWith(Buffer.alloc(5_914_624, 7));
    expect(await repairPartialPadding(dir, SEGMENT, SEGMENT_BYTES)).toBe(5_914_624);
    const file = readFileSync(join(dir, `${SEGMENT}.partial`));
    expect(file.length).toBe(SEGMENT_BYTES);
    expect(file.subarray(0, 5_914_624).every((byte) => byte === 7)).toBe(true);
    expect(file.subarray(5_914_624).every((byte) => byte === 0)).toBe(true);
  });

  for (const [what, size] of [['an empty', 0], ['a full', SEGMENT_BYTES]] as const) {
    it(`leaves ${what} .partial alone`, async () => {
      const dir = spoolWith(Buffer.alloc(size, 7));
      expect(await repairPartialPadding(dir, SEGMENT, SEGMENT_BYTES)).toBeUndefined();
      expect(statSync(join(dir, `${SEGMENT}.partial`)).size).toBe(size);
    });
  }
});
