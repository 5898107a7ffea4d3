// Contiguity of archived WAL on one timeline: which segments between two points are missing, named exactly,
// so verify and the backup's archive check can say what is lost instead of "something is wrong".
import { nextWalSegment, parseWalSegment, segmentStartLsn, walSegmentOf, type Lsn, type TimelineId, type WalSegmentName } from '../postgres/index.js';
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

/** One timeline of a history path, oldest first: its WAL ends at `endLsn` (its switch), the last one's does not. */
export interface TimelineStep {
  timeline: TimelineId;
  endLsn: Lsn | undefined;
}

/** Start of the segment holding `lsn`. */
export function segmentFloor(lsn: Lsn, segmentSizeBytes: number): Lsn {
  return (lsn - (lsn % BigInt(segmentSizeBytes))) as Lsn;
}

/**
 * The timeline whose copy of the segment starting at `segmentStart` replay reads, on a history path. The segment
 * holding a switch is the child's: PostgreSQL asks for the newest timeline's file first, and the child's copy holds
 * the parent's WAL before the switch too (the parent's own copy is only ever archived as a partial).
 */
export function timelineOfSegment(path: readonly TimelineStep[], segmentStart: Lsn, segmentSizeBytes: number): TimelineId {
  const step = path.find((candidate) => candidate.endLsn === undefined || segmentStart < segmentFloor(candidate.endLsn, segmentSizeBytes));
  return (step ?? path.at(-1)!).timeline;
}

/** The segment holding `lsn` on a history path, named as replay reads it (see {@link timelineOfSegment}). */
export function segmentOnPath(path: readonly TimelineStep[], lsn: Lsn, segmentSizeBytes: number): WalSegmentName {
  return walSegmentOf(timelineOfSegment(path, segmentFloor(lsn, segmentSizeBytes), segmentSizeBytes), lsn, segmentSizeBytes);
}

/** Segments needed to replay from `fromLsn` up to (excluding) `toLsn` along a history path, each named as replay reads it. */
export function segmentsAlongPath(path: readonly TimelineStep[], fromLsn: Lsn, toLsn: Lsn, segmentSizeBytes: number): WalSegmentName[] {
  const out: WalSegmentName[] = [];
  const last = (toLsn > fromLsn ? toLsn - 1n : fromLsn) as Lsn;
  for (let start = segmentFloor(fromLsn, segmentSizeBytes); start <= last; start = (start + BigInt(segmentSizeBytes)) as Lsn) {
    out.push(segmentOnPath(path, start, segmentSizeBytes));
  }
  return out;
}

/** Whether `segment` is the copy replay reads on `path` (not another branch's, nor a parent's copy of a switch segment). */
export function isOnPath(path: readonly TimelineStep[], segment: WalSegmentName, segmentSizeBytes: number): boolean {
  return parseWalSegment(segment, segmentSizeBytes).timeline === timelineOfSegment(path, segmentStartLsn(segment, segmentSizeBytes), segmentSizeBytes);
}

/** The newest complete segment stored on `path` and its end (exclusive), if any. */
export function newestCompleteOnPath(wal: ArchivedWal, path: readonly TimelineStep[], segmentSizeBytes: number): { segment: WalSegmentName; end: Lsn } | undefined {
  let newest: { segment: WalSegmentName; end: Lsn } | undefined;
  for (const segment of wal.segments.keys()) {
    const end = (segmentStartLsn(segment, segmentSizeBytes) + BigInt(segmentSizeBytes)) as Lsn;
    if ((newest === undefined || end > newest.end) && isOnPath(path, segment, segmentSizeBytes)) newest = { segment, end };
  }
  return newest;
}

/** End (exclusive) of the newest complete segment stored on `path` ending after `from`; `from` when there is none. */
export function newestCompleteEnd(wal: ArchivedWal, path: readonly TimelineStep[], from: Lsn, segmentSizeBytes: number): Lsn {
  const newest = newestCompleteOnPath(wal, path, segmentSizeBytes);
  return newest !== undefined && newest.end > from ? newest.end : from;
}

/** What {@link walkArchivedWal} found. */
export interface ArchivedWalWalk {
  /** Stored segments from the start up to the first missing one: what replay can read without a gap. */
  contiguous: WalSegmentName[];
  /** Every stored segment walked, before and after gaps. */
  stored: WalSegmentName[];
  /** Missing segments, oldest first. */
  gaps: WalSegmentName[];
  /** Where the walk ended: the newest complete segment stored on the path; undefined when none ends after `from`. */
  newest: WalSegmentName | undefined;
}

/**
 * Walk the segments replay reads along `path` from the one holding `from` up to the newest complete segment
 * stored on the path, sorting them into stored and missing. The one walk behind the catalog's window, verify's
 * WAL check and the increment plan (a single timeline is the path `[{ timeline, endLsn: undefined }]`).
 */
export function walkArchivedWal(wal: ArchivedWal, path: readonly TimelineStep[], from: Lsn, segmentSizeBytes: number): ArchivedWalWalk {
  const walk: ArchivedWalWalk = { contiguous: [], stored: [], gaps: [], newest: undefined };
  const end = newestCompleteEnd(wal, path, from, segmentSizeBytes);
  if (end <= from) return walk;
  for (const segment of segmentsAlongPath(path, from, end, segmentSizeBytes)) {
    if (!wal.segments.has(segment)) walk.gaps.push(segment);
    else {
      walk.stored.push(segment);
      if (walk.gaps.length === 0) walk.contiguous.push(segment);
    }
    walk.newest = segment;
  }
  return walk;
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
