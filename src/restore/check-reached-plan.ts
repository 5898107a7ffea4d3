// After recovery, did replay get as far as the plan says it must? PostgreSQL ends recovery (and promotes) when
// restore_command answers "not found", so a segment that vanished from the repository after the plan would end a
// --latest restore early, silently. This compares the position replay reached with the least the plan implies.
// Pure: the caller names the missing segment (it asks the repository) and decides what to do with the server.
import { formatLsn, lsnFromBigInt, parseLsn, segmentStartLsn, type Lsn } from '../postgres/index.js';
import type { PlannedWal, RestorePlan } from './plan-restore.js';

/**
 * Slack below an exact target: replay stops at a record boundary, and between one record's end and the next
 * record's start lie at most alignment padding and a page header, all inside one 8 KiB WAL page.
 */
const RECORD_BOUNDARY_SLACK_BYTES = 8192n;

/** The least end-of-replay position the plan implies, or undefined when it implies none Lifeboat can check. */
export function plannedMinimumLsn(plan: RestorePlan, segmentSizeBytes: number): { lsn: Lsn; meaning: string } | undefined {
  const { target } = plan;
  const minus = (lsn: Lsn): Lsn => lsnFromBigInt(lsn > RECORD_BOUNDARY_SLACK_BYTES ? lsn - RECORD_BOUNDARY_SLACK_BYTES : 0n);
  switch (target.kind) {
    case 'latest': {
      // Into the newest planned segment (or partial), not its end: a partial (or a record running on into the
      // next, unarchived segment) may end in the middle of a record, which replay leaves out.
      const last = plan.wal.at(-1);
      return last ? { lsn: segmentStartLsn(last.segment, segmentSizeBytes), meaning: `the newest planned segment ${last.segment}${last.source === 'partial' ? ' (a partial)' : ''}` } : undefined;
    }
    case 'lsn':
      return { lsn: minus(target.lsn), meaning: `the target LSN ${formatLsn(target.lsn)}` };
    case 'name':
      return plan.namedLsn === undefined ? undefined : { lsn: minus(plan.namedLsn), meaning: `restore point "${target.name}" at ${formatLsn(plan.namedLsn)}` };
    case 'immediate':
      return { lsn: minus(parseLsn(plan.backup.stopLsn)), meaning: `the backup's consistent point ${plan.backup.stopLsn}` };
    case 'time':
      // No LSN is known for a time; PostgreSQL itself refuses to end recovery before an explicit target.
      return undefined;
  }
}

/** What replay left out: the planned segments from the one replay stopped in on, in replay order. */
export interface RecoveryShortfall {
  reachedLsn: Lsn;
  minimumLsn: Lsn;
  /** What the minimum stands for, e.g. `the newest planned segment 0000000100000000000000A3`. */
  meaning: string;
  /** Planned segments replay did not finish, earliest first; the culprit is among them. */
  unreplayed: PlannedWal[];
}

/** Undefined when replay reached what the plan implies; else what it left out. */
export function checkReachedPlan(plan: RestorePlan, reachedLsn: Lsn, segmentSizeBytes: number): RecoveryShortfall | undefined {
  const minimum = plannedMinimumLsn(plan, segmentSizeBytes);
  if (minimum === undefined || reachedLsn >= minimum.lsn) return undefined;
  const size = BigInt(segmentSizeBytes);
  const unreplayed = plan.wal.filter((wal) => segmentStartLsn(wal.segment, segmentSizeBytes) + size > reachedLsn);
  return { reachedLsn, minimumLsn: minimum.lsn, meaning: minimum.meaning, unreplayed };
}
