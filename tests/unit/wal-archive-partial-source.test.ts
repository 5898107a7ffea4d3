// The head partial is scanned and uploaded in blocks, never read whole: the upload holds the scanned WAL and zeros
// after it, whatever pg_receivewal appended meanwhile; a partial that vanished (completed) or holds no WAL yet is
// reported as such, and one that shrank under the reader fails the upload instead of storing a short object.
import { appendFileSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { zeroPaddedPrefixSource } from '../../src/backup/wal-archive/partial-source.js';
import { scanSpoolPartial } from '../../src/backup/wal-archive/scan-spool-partial.js';
import { segmentStartLsn, type WalSegmentName } from '../../src/postgres/index.js';

const SEGMENT = '000000010000000000000004' as WalSegmentName;
const SEGMENT_BYTES = 16 * 1024 * 1024;
const dirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lb-partial-'));
  dirs.push(dir);
  return dir;
}

async function readAll(source: ReturnType<typeof zeroPaddedPrefixSource>, blockBytes: number): Promise<Buffer> {
  const blocks: Buffer[] = [];
  for (;;) {
    const block = Buffer.alloc(blockBytes, 0xee);
    const length = await source.readInto(block);
    blocks.push(block.subarray(0, length));
    if (length < block.length) break;
  }
  await source.close();
  return Buffer.concat(blocks);
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('zeroPaddedPrefixSource', () => {
  it('yields the first validBytes of the file, then zeros to the total, over blocks of any size', async () => {
    const path = join(tempDir(), 'partial');
    writeFileSync(path, Buffer.concat([Buffer.alloc(100_000, 7), Buffer.alloc(50_000, 9)]));
    for (const blockBytes of [4096, 65_536, 333_333]) {
      const content = await readAll(zeroPaddedPrefixSource(path, 100_000, 262_144), blockBytes);
      expect(content.length).toBe(262_144);
      expect(content.subarray(0, 100_000).every((byte) => byte === 7)).toBe(true);
      expect(content.subarray(100_000).every((byte) => byte === 0)).toBe(true);
    }
  });

  it('fails when the file holds fewer bytes than were scanned', async () => {
    const path = join(tempDir(), 'partial');
    writeFileSync(path, Buffer.alloc(10_000, 7));
    await expect(readAll(zeroPaddedPrefixSource(path, 20_000, 65_536), 65_536)).rejects.toThrow(/shrank below the 20000 bytes/);
  });
});

describe('scanSpoolPartial', () => {
  it('is undefined for a partial that is gone (completed and renamed)', async () => {
    expect(await scanSpoolPartial(tempDir(), SEGMENT, SEGMENT_BYTES)).toBeUndefined();
  });

  it('finds no WAL in a pre-filled partial nothing was written to yet', async () => {
    const dir = tempDir();
    const path = join(dir, `${SEGMENT}.partial`);
    writeFileSync(path, Buffer.alloc(0));
    truncateSync(path, SEGMENT_BYTES);
    const scanned = await scanSpoolPartial(dir, SEGMENT, SEGMENT_BYTES);
    expect(scanned?.validBytes).toBe(0);
    expect(scanned?.summary.endLsn).toBe(segmentStartLsn(SEGMENT, SEGMENT_BYTES));
  });

  it('stops reading where valid WAL ends: bytes past a segment after it are never read', async () => {
    const dir = tempDir();
    const path = join(dir, `${SEGMENT}.partial`);
    writeFileSync(path, Buffer.alloc(0));
    truncateSync(path, SEGMENT_BYTES);
    appendFileSync(path, Buffer.alloc(1));
    // Zeros end the walk at the first page, so the extra byte is never read: the scan stops early.
    expect((await scanSpoolPartial(dir, SEGMENT, SEGMENT_BYTES))?.validBytes).toBe(0);
  });
});
