// Contiguity of archived WAL on one timeline: which segments between two points are missing, named exactly,
// so verify and the backup's archive check can say what is lost instead of "something is wrong".
import { nextWalSegment, walSegmentOf, type Lsn, type TimelineId, type WalSegmentName } from '../postgres/index.js';
import type { ArchivedWal } from './list-archived-wal.js';

/**
 * Segments needed to replay from `fromLsn` up to (excluding) `toLsn` on `timeline`. The segment holding the
 * byte just before `toLsn` is the last one needed.
 */
export function segmentsBetween(timeline: TimelineId, fromLsn: Lsn, toLsn: Lsn, segmentSizeBytes: number): WalSegmentName[] {
  const first = walSegmentOf(timeline, fromLsn, segmentSizeBytes);
  const last = walSegmentOf(timeline, (toLsn > fromLsn ? toLsn - 1n : fromLsn) as Lsn, segmentSizeBytes);
  const out: WalSegmentName[] = [first];
  for (let segment = first; segment !== last; ) {
    segment = nextWalSegment(segment, segmentSizeBytes);
    out.push(segment);
  }
  return out;
}

export interface WalCoverage {
  /** Needed segments that are not stored complete. */
  missing: WalSegmentName[];
  /** The last needed segment is missing as a whole but a partial reaching `toLsn` is stored. */
  coveredByPartial: boolean;
}

/** Is WAL from `fromLsn` to `toLsn` on `timeline` all in the repository? Partials count only for the last segment. */
export function checkWalCoverage(wal: ArchivedWal, timeline: TimelineId, fromLsn: Lsn, toLsn: Lsn, segmentSizeBytes: number): WalCoverage {
  const needed = segmentsBetween(timeline, fromLsn, toLsn, segmentSizeBytes);
  const missing = needed.filter((segment) => !wal.segments.has(segment));
  const last = needed.at(-1)!;
  if (missing.length === 1 && missing[0] === last) {
    const partial = wal.partials.get(last)?.at(-1);
    if (partial && partial.endLsn >= toLsn) return { missing: [], coveredByPartial: true };
  }
  return { missing, coveredByPartial: false };
}
