// The timeline history files in the repository, parsed, and the history path they give from a backup's timeline
// to the newest timeline descending from it: what the recoverable window and a restore plan follow after a
// failover or an earlier restore.
import type { DecryptionSession } from '../crypto/index.js';
import { readObject } from '../pipeline/index.js';
import { parseTimelineHistory, timelinePath, type TimelineId, type TimelineSwitch } from '../postgres/index.js';
import { readAll, type Storage } from '../storage/index.js';
import type { TimelineStep } from './find-wal-gaps.js';
import type { ArchivedWal } from './list-archived-wal.js';

/** History files are a line per ancestor: a megabyte is far beyond any real one. */
const MAX_HISTORY_BYTES = 1 << 20;

export async function loadTimelineHistories(
  storage: Storage,
  session: DecryptionSession,
  cluster: string,
  wal: ArchivedWal,
  signal?: AbortSignal,
): Promise<Map<TimelineId, TimelineSwitch[]>> {
  const histories = new Map<TimelineId, TimelineSwitch[]>();
  for (const [timeline, key] of wal.histories) {
    const content = readObject({ storage, key, session, expectedScope: { cluster, family: 'wal' }, ...(signal ? { signal } : {}) });
    histories.set(timeline, parseTimelineHistory((await readAll(content, MAX_HISTORY_BYTES, key)).toString('utf8'), timeline));
  }
  return histories;
}

/**
 * The path from timeline `from` to the highest timeline the repository holds WAL or a history for that descends
 * from it (just `from` when none does).
 */
export function newestDescendantPath(from: TimelineId, wal: ArchivedWal, histories: ReadonlyMap<TimelineId, TimelineSwitch[]>): TimelineStep[] {
  const known = new Set<number>([...histories.keys(), ...[...wal.segments.keys(), ...wal.partials.keys()].map((segment) => Number.parseInt(segment.slice(0, 8), 16))]);
  for (const timeline of [...known].sort((a, b) => b - a)) {
    if (timeline <= from) break;
    const path = timelinePath(from, timeline as TimelineId, histories);
    if (path !== undefined) return path;
  }
  return [{ timeline: from, endLsn: undefined }];
}
