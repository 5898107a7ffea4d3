// Decides where streaming resumes when the spool is empty (new machine, lost disk): at the first segment the
// repository lacks. A zero-filled `<segment>.partial` makes pg_receivewal start exactly there. If the server
// no longer has that WAL, stop and name the gap: silently skipping it would break every restore across it.
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import {
  lsnFromBigInt,
  parseWalSegment,
  segmentStartLsn,
  walSegmentOf,
  type Lsn,
  type TimelineId,
  type TimelineSwitch,
  type WalSegmentName,
} from '../../postgres/index.js';
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
 * holding `guardRestartLsn` (a new archive starts where the server's guard slot reserved WAL). The segment is
 * named for the timeline its WAL belongs to: after a failover that no archiver saw, WAL before the switch exists
 * on the server only under the parent's names, and pg_receivewal started there streams the parent up to the
 * switch and then follows the history onto `timeline` by itself. The caller checks the server still has it.
 */
export function planSeed(
  wal: ArchivedWal,
  timeline: TimelineId,
  history: readonly TimelineSwitch[],
  guardRestartLsn: Lsn,
  segmentSizeBytes: number,
): SeedDecision {
  // Each timeline of the history with the LSN where it ended (the current one has not).
  const path = [...history.map((entry) => ({ timeline: entry.parent, endLsn: entry.switchLsn as Lsn | undefined })), { timeline, endLsn: undefined }];
  const stepAt = (lsn: Lsn): (typeof path)[number] => path.find((step) => step.endLsn === undefined || lsn < step.endLsn) ?? { timeline, endLsn: undefined };
  let newest: { name: WalSegmentName; coveredTo: Lsn } | undefined;
  for (const name of wal.segments.keys()) {
    const start = segmentStartLsn(name, segmentSizeBytes);
    const step = stepAt(start);
    // Only segments of this history count: a parent's segments past its switch belong to another branch, and
    // its segment holding the switch covers this history only up to the switch.
    if (parseWalSegment(name, segmentSizeBytes).timeline !== step.timeline) continue;
    const end = lsnFromBigInt(start + BigInt(segmentSizeBytes));
    const coveredTo = step.endLsn !== undefined && step.endLsn < end ? step.endLsn : end;
    if (newest === undefined || coveredTo > newest.coveredTo) newest = { name, coveredTo };
  }
  if (newest === undefined) return { segment: walSegmentOf(stepAt(guardRestartLsn).timeline, guardRestartLsn, segmentSizeBytes), continues: false };
  return { segment: walSegmentOf(stepAt(newest.coveredTo).timeline, newest.coveredTo, segmentSizeBytes), continues: true, newestStored: newest.name };
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
