// Reads archived WAL back from the repository (checksums verified, decrypted) and scans it for commit times and
// restore points. Sealing increments, listing the recoverable window and verify all read WAL this way.
import type { DecryptionSession } from '../crypto/index.js';
import { readObjectInto } from '../pipeline/index.js';
import { LifeboatError } from '../errors/index.js';
import { segmentStartLsn, type Lsn, type TimelineId, type WalSegmentName } from '../postgres/index.js';
import { segmentsBetween } from './find-wal-gaps.js';
import type { ArchivedWal } from './list-archived-wal.js';
import { createWalScanner, type WalScanCarry, type WalScanSummary } from '../postgres/wal-scan/index.js';
import type { Storage } from '../storage/index.js';

export interface ScanArchivedOptions {
  storage: Storage;
  session: DecryptionSession;
  cluster: string;
  key: string;
  segment: WalSegmentName;
  /** Content checksum to verify (complete segments carry it in their key). */
  plaintextSha256?: string;
  segmentSizeBytes: number;
  continueFrom?: WalScanCarry;
  /** Scan only bytes before this offset in the segment (to stop at an LSN inside it). Default: all. */
  limitBytes?: number;
  signal?: AbortSignal;
}

/** Stream one archived WAL object through verification and the scanner; memory stays at one page. */
export async function scanArchivedWal(options: ScanArchivedOptions): Promise<WalScanSummary> {
  const scanner = createWalScanner(options.segment, { segmentSizeBytes: options.segmentSizeBytes, ...(options.continueFrom ? { continueFrom: options.continueFrom } : {}) });
  let remaining = options.limitBytes ?? Number.POSITIVE_INFINITY;
  // Decoded blocks go straight to the scanner, which copies what it keeps of them (a split page, a record's parts).
  await readObjectInto(
    {
      storage: options.storage,
      key: options.key,
      session: options.session,
      expected: options.plaintextSha256 ? { plaintextSha256: options.plaintextSha256 } : {},
      expectedScope: { cluster: options.cluster, family: 'wal' },
      ...(options.signal ? { signal: options.signal } : {}),
    },
    async (chunk) => {
      // Past the limit the bytes are still read (so checksums are verified) but not scanned.
      if (remaining > 0) scanner.update(remaining >= chunk.length ? chunk : chunk.subarray(0, remaining));
      remaining -= chunk.length;
    },
  );
  return scanner.finish();
}

export interface XactTimeRange {
  firstXactTime?: Date;
  lastXactTime?: Date;
  restorePoints: { name: string; time: Date; lsn: Lsn }[];
}

/**
 * Scan archived WAL from `fromLsn` up to `toLsn` on `timeline` (complete segments, or the newest partial for the
 * last one) and return the commit-time range and restore points of the records ending in that range.
 */
export async function scanWalRange(options: {
  storage: Storage;
  session: DecryptionSession;
  cluster: string;
  wal: ArchivedWal;
  timeline: TimelineId;
  fromLsn: Lsn;
  toLsn: Lsn;
  segmentSizeBytes: number;
  signal?: AbortSignal;
}): Promise<XactTimeRange> {
  const segments = segmentsBetween(options.timeline, options.fromLsn, options.toLsn, options.segmentSizeBytes);
  const range: XactTimeRange = { restorePoints: [] };
  let carry: WalScanCarry | undefined;
  for (const segment of segments) {
    const complete = options.wal.segments.get(segment);
    const partial = options.wal.partials.get(segment)?.at(-1);
    const key = complete?.key ?? partial?.key;
    if (!key) throw new LifeboatError('objectNotFound', `WAL segment ${segment} is not in the repository`, { hint: 'run `lifeboat verify` to list every gap' });
    const segmentStart = segmentStartLsn(segment, options.segmentSizeBytes);
    const limit = options.toLsn < segmentStart + BigInt(options.segmentSizeBytes) ? Number(options.toLsn - segmentStart) : undefined;
    const summary = await scanArchivedWal({
      storage: options.storage,
      session: options.session,
      cluster: options.cluster,
      key,
      segment,
      ...(complete ? { plaintextSha256: complete.sha256 } : {}),
      segmentSizeBytes: options.segmentSizeBytes,
      ...(carry ? { continueFrom: carry } : {}),
      ...(limit !== undefined ? { limitBytes: limit } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    carry = summary.carry;
    range.firstXactTime ??= summary.firstXactTime;
    if (summary.lastXactTime && (!range.lastXactTime || summary.lastXactTime > range.lastXactTime)) range.lastXactTime = summary.lastXactTime;
    range.restorePoints.push(...summary.restorePoints);
  }
  return range;
}
