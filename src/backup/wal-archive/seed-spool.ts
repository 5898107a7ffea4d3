// Decides where streaming resumes when the spool is empty (new machine, lost disk): at the first segment the
// repository lacks. A zero-filled `<segment>.partial` makes pg_receivewal start exactly there. If the server
// no longer has that WAL, stop and name the gap: silently skipping it would break every restore across it.
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Lsn, TimelineId, TimelineSwitch, WalSegmentName } from '../../postgres/index.js';
import { newestCompleteOnPath, segmentOnPath, type TimelineStep } from '../../repository/find-wal-gaps.js';
import type { ArchivedWal } from '../../repository/list-archived-wal.js';
import { createWalGapError } from './wal-gap-error.js';

export interface SeedDecision {
  /** Segment streaming starts at: named for the timeline that holds its WAL, which may be an ancestor. */
  segment: WalSegmentName;
  /** True when the repository already had WAL of this history and streaming continues it. */
  continues: boolean;
  /** The newest segment the repository holds on this history, when it continues. */
  newestStored?: WalSegmentName;
}

/**
 * The first segment to stream for a server on `timeline` whose history (its parents and their switch LSNs,
 * oldest first) is `history`: right after the newest complete segment stored on that history, else the one
 * holding `guardRestartLsn` (a new archive starts where the server's guard slot reserved WAL). Segments are named
 * as restore reads them (see timelineOfSegment): after a failover that no archiver saw, WAL before the switch
 * segment exists on the server only under the parent's names, and pg_receivewal started there streams the parent
 * up to the switch and then follows the history onto `timeline` by itself. The caller checks the server has it.
 */
export function planSeed(
  wal: ArchivedWal,
  timeline: TimelineId,
  history: readonly TimelineSwitch[],
  guardRestartLsn: Lsn,
  segmentSizeBytes: number,
): SeedDecision {
  const path: TimelineStep[] = [...history.map((entry) => ({ timeline: entry.parent, endLsn: entry.switchLsn as Lsn | undefined })), { timeline, endLsn: undefined }];
  // Only this history's copies count: not a parent's copies past its switch (another branch), nor the parent's copy
  // of the segment holding a switch (the child's copy is the one restore reads).
  const newest = newestCompleteOnPath(wal, path, segmentSizeBytes);
  if (newest === undefined) return { segment: segmentOnPath(path, guardRestartLsn, segmentSizeBytes), continues: false };
  return { segment: segmentOnPath(path, newest.end, segmentSizeBytes), continues: true, newestStored: newest.segment };
}

/**
 * Fails with the gap when the repository continues at `decision.segment` but the server's oldest WAL file on
 * that segment's timeline (`oldestOnServer`) is later: that WAL is gone, and a restore cannot cross it.
 */
export function checkSeedReachable(decision: SeedDecision, oldestOnServer: WalSegmentName | undefined, segmentSizeBytes: number): void {
  if (decision.continues && oldestOnServer !== undefined && decision.segment < oldestOnServer) {
    throw createWalGapError(decision.segment, oldestOnServer, segmentSizeBytes, { newestStored: decision.newestStored });
  }
}

/** Create `<segment>.partial` as a sparse zero-filled segment so pg_receivewal starts streaming at its start. */
export async function seedSpool(spoolDir: string, segment: WalSegmentName, segmentSizeBytes: number): Promise<void> {
  const handle = await open(join(spoolDir, `${segment}.partial`), 'wx', 0o600);
  try {
    await handle.truncate(segmentSizeBytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
