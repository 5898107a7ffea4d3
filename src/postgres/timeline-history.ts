// PostgreSQL's timeline history files (00000002.history): each line names a parent timeline and the LSN at
// which the child switched away from it. Restore follows them to reach a target on a later timeline.
import { LifeboatError } from '../errors/index.js';
import { parseLsn, type Lsn } from './lsn.js';
import { toTimelineId, type TimelineId } from './wal-segment.js';

export interface TimelineSwitch {
  /** The timeline that ended... */
  parent: TimelineId;
  /** ...at this LSN (WAL before it belongs to the parent). */
  switchLsn: Lsn;
  reason: string;
}

/** Parse a history file of `timeline`; entries come oldest first. */
export function parseTimelineHistory(text: string, timeline: TimelineId): TimelineSwitch[] {
  const entries: TimelineSwitch[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [parent, switchpoint, ...reason] = line.split(/\s+/);
    if (!parent || !switchpoint || !/^\d+$/.test(parent)) {
      throw new LifeboatError('objectCorrupted', `history file of timeline ${timeline} has a malformed line: "${line}"`, { hint: 'restore the history file from another copy' });
    }
    entries.push({ parent: toTimelineId(Number(parent)), switchLsn: parseLsn(switchpoint), reason: reason.join(' ') });
  }
  return entries;
}

/**
 * The WAL path to replay on `target`, as (timeline, up-to LSN) steps: the parents' WAL before each switch, then
 * the target timeline. Returns undefined when `target` does not descend from `start`.
 */
export function timelinePath(start: TimelineId, target: TimelineId, histories: ReadonlyMap<TimelineId, TimelineSwitch[]>): { timeline: TimelineId; endLsn: Lsn | undefined }[] | undefined {
  if (target === start) return [{ timeline: target, endLsn: undefined }];
  const history = histories.get(target);
  if (!history) return undefined;
  const index = history.findIndex((entry) => entry.parent === start);
  if (index === -1) return undefined;
  return [...history.slice(index).map((entry) => ({ timeline: entry.parent, endLsn: entry.switchLsn as Lsn | undefined })), { timeline: target, endLsn: undefined }];
}
