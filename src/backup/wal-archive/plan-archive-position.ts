// Where the archive stands when the archiver starts, from the repository listing alone: the newest stored
// segment and WAL position (for the state and the lag), and how far the guard slot may move, which covers
// segments an earlier run stored but was killed before it could advance the guard past them.
import { lsnFromBigInt, nextWalSegment, segmentStartLsn, walSegmentOf, type Lsn, type TimelineId, type WalSegmentName } from '../../postgres/index.js';
import type { ArchivedWal } from '../../repository/list-archived-wal.js';
import { formatTimeline } from '../../storage/index.js';

export interface ArchivePosition {
  /** Newest complete segment stored on `timeline`. */
  newestSegment: WalSegmentName | undefined;
  /** End of the newest WAL stored on `timeline`, partials included. */
  archivedLsn: Lsn | undefined;
  /** End of the unbroken run of stored segments starting at the guard's restart point; undefined if none. */
  durableLsn: Lsn | undefined;
}

function endOf(segment: WalSegmentName, segmentSizeBytes: number): Lsn {
  return lsnFromBigInt(segmentStartLsn(segment, segmentSizeBytes) + BigInt(segmentSizeBytes));
}

export function planArchivePosition(wal: ArchivedWal, timeline: TimelineId, guardRestartLsn: Lsn | undefined, segmentSizeBytes: number): ArchivePosition {
  const prefix = formatTimeline(timeline);
  const segments = [...wal.segments.keys()].filter((name) => name.startsWith(prefix)).sort();
  const newestSegment = segments.at(-1);
  let archivedLsn = newestSegment === undefined ? undefined : endOf(newestSegment, segmentSizeBytes);
  for (const [segment, partials] of wal.partials) {
    const endLsn = partials.at(-1)?.endLsn;
    if (segment.startsWith(prefix) && endLsn !== undefined && (archivedLsn === undefined || endLsn > archivedLsn)) archivedLsn = endLsn;
  }
  let durableLsn: Lsn | undefined;
  if (guardRestartLsn !== undefined) {
    for (let segment = walSegmentOf(timeline, guardRestartLsn, segmentSizeBytes); wal.segments.has(segment); segment = nextWalSegment(segment, segmentSizeBytes)) {
      durableLsn = endOf(segment, segmentSizeBytes);
    }
  }
  return { newestSegment, archivedLsn, durableLsn };
}
