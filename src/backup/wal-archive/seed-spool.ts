// Decides where streaming resumes when the spool is empty (new machine, lost disk): at the first segment the
// repository lacks. A zero-filled `<segment>.partial` makes pg_receivewal start exactly there. If the server
// no longer has that WAL, stop and name the gap: silently skipping it would break every restore across it.
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { nextWalSegment, parseWalSegment, walSegmentOf, type Lsn, type TimelineId, type WalSegmentName } from '../../postgres/index.js';
import type { ArchivedWal } from '../../repository/list-archived-wal.js';
import { createWalGapError } from './wal-gap-error.js';

export interface SeedDecision {
  /** Segment streaming starts at. */
  segment: WalSegmentName;
  /** True when the repository already had WAL of this timeline and streaming continues it. */
  continues: boolean;
}

/**
 * The first segment to stream on `timeline`: after the newest complete segment stored for it, else the one
 * holding `guardRestartLsn` (a new archive starts where the server's guard slot reserved WAL). `oldestOnServer`
 * is the oldest segment still in the server's pg_wal on that timeline.
 */
export function planSeed(
  wal: ArchivedWal,
  timeline: TimelineId,
  guardRestartLsn: Lsn,
  oldestOnServer: WalSegmentName | undefined,
  segmentSizeBytes: number,
): SeedDecision {
  const stored = [...wal.segments.keys()].filter((name) => parseWalSegment(name, segmentSizeBytes).timeline === timeline).sort();
  const newest = stored.at(-1);
  if (newest === undefined) return { segment: walSegmentOf(timeline, guardRestartLsn, segmentSizeBytes), continues: false };
  const next = nextWalSegment(newest, segmentSizeBytes);
  if (oldestOnServer !== undefined && next < oldestOnServer) {
    throw createWalGapError(next, oldestOnServer, segmentSizeBytes, { newestStored: newest });
  }
  return { segment: next, continues: true };
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
