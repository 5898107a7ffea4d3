// Decides what the next increment seals: the complete segments archived after the chain's tip, on the tip's
// timeline, up to the last one before any gap. Pure: a listing in, a plan (or the reason there is none) out.
import { LifeboatError } from '../../errors/index.js';
import { parseLsn, segmentStartLsn, toTimelineId, type Lsn } from '../../postgres/index.js';
import type { BackupManifest } from '../../repository/backup-manifest.js';
import { walkArchivedWal } from '../../repository/find-wal-gaps.js';
import type { ArchivedSegment, ArchivedWal } from '../../repository/list-archived-wal.js';

export interface IncrementPlan {
  tip: BackupManifest;
  segments: ArchivedSegment[];
  startLsn: Lsn;
  /** End of the last sealed segment. */
  stopLsn: Lsn;
}

/** The chain tip: the newest full backup or increment (ids sort by time). */
export function chainTip(catalog: readonly BackupManifest[]): BackupManifest | undefined {
  return [...catalog].sort((a, b) => (a.backupId < b.backupId ? -1 : 1)).at(-1);
}

/** Returns undefined when no complete segment was archived after the tip. */
export function planIncrement(catalog: readonly BackupManifest[], wal: ArchivedWal, segmentSizeBytes: number): IncrementPlan | undefined {
  const tip = chainTip(catalog);
  if (!tip) {
    throw new LifeboatError('usage', 'there is no full backup to extend yet', { hint: 'take one first: lifeboat backup full' });
  }
  const timeline = toTimelineId(tip.timeline);
  const startLsn = parseLsn(tip.stopLsn);
  // A full backup stops inside a segment, which the first increment seals again (WAL after the stop point is
  // in it); increments stop on a segment boundary, so the next one starts with the following segment.
  const walk = walkArchivedWal(wal, [{ timeline, endLsn: undefined }], startLsn, segmentSizeBytes);
  if (walk.gaps.length > 0) {
    throw new LifeboatError('objectNotFound', `WAL gap after ${tip.backupId}: segment ${walk.gaps[0]} is missing while later segments up to ${walk.newest} are archived`, {
      hint: 'restores cannot cross this gap; run `lifeboat verify` for the full list and take a new full backup',
    });
  }
  const sealed = walk.contiguous.map((segment) => wal.segments.get(segment)!);
  if (sealed.length === 0) return undefined;
  const last = sealed.at(-1)!.segment;
  return { tip, segments: sealed, startLsn, stopLsn: (segmentStartLsn(last, segmentSizeBytes) + BigInt(segmentSizeBytes)) as Lsn };
}
