// A point-in-time drill proves the restore stopped exactly at its target: no transaction committed after the
// target was replayed, and every heartbeat committed at or before it on the primary is in the restored server.
// Commit timestamps (track_commit_timestamp) make that exact; without them the heartbeat's own clock reading is
// used, which can only be checked up to the commit delay, so a second of margin is allowed then.
import type { PgClient } from '../../postgres/index.js';
import { HEARTBEAT_RELATION, heartbeatTableExists } from '../heartbeat/heartbeat-table.js';
import type { CheckOutcome } from './timed-check.js';

async function commitTimestampsOn(client: PgClient): Promise<boolean> {
  return (await client.query<{ on: boolean }>(`select current_setting('track_commit_timestamp') = 'on' as on`)).rows[0]!.on;
}


/** Newest heartbeat committed (or written, without commit timestamps) at or before `target`. */
async function newestSeqBy(client: PgClient, target: string, exact: boolean): Promise<number | undefined> {
  const sql = exact
    ? `select max(seq)::text as seq from ${HEARTBEAT_RELATION} where pg_xact_commit_timestamp(xmin) <= $1`
    : `select max(seq)::text as seq from ${HEARTBEAT_RELATION} where written_at <= $1::timestamptz - interval '1 second'`;
  const seq = (await client.query<{ seq: string | null }>(sql, [target])).rows[0]?.seq;
  return seq === null || seq === undefined ? undefined : Number(seq);
}

export async function checkPitrStop(restored: PgClient, primary: PgClient | undefined, target: string, lastCommitTime: string | undefined): Promise<CheckOutcome> {
  const problems: string[] = [];
  if (lastCommitTime && new Date(lastCommitTime).getTime() > new Date(target).getTime()) problems.push(`a transaction committed at ${lastCommitTime}, after the target, was replayed`);
  if (!primary || !(await heartbeatTableExists(restored))) {
    if (problems.length > 0) return { outcome: 'failed', message: problems.join('; ') };
    return { outcome: 'skipped', message: `no heartbeat table${primary ? '' : ' or no primary'} to compare with; the last replayed commit (${lastCommitTime ?? 'none'}) is not after the target` };
  }
  const exact = (await commitTimestampsOn(restored)) && (await commitTimestampsOn(primary));
  const restoredMax = (await restored.query<{ seq: string | null }>(`select max(seq)::text as seq from ${HEARTBEAT_RELATION}`)).rows[0]?.seq ?? null;
  const restoredSeq = restoredMax === null ? undefined : Number(restoredMax);
  const expectedSeq = await newestSeqBy(primary, target, exact);
  if (expectedSeq !== undefined && (restoredSeq ?? -1) < expectedSeq) problems.push(`heartbeat ${expectedSeq}, committed by the target on the primary, is missing (the restore holds up to ${restoredSeq ?? 'none'})`);
  if (exact && restoredSeq !== undefined) {
    const late = (await restored.query<{ n: string }>(`select count(*)::text as n from ${HEARTBEAT_RELATION} where pg_xact_commit_timestamp(xmin) > $1`, [target])).rows[0]!.n;
    if (late !== '0') problems.push(`${late} heartbeat(s) committed after the target were replayed`);
  }
  if (problems.length > 0) return { outcome: 'failed', message: `the restore did not stop at ${target}: ${problems.join('; ')}` };
  return { outcome: 'passed', message: `stopped exactly at ${target}: heartbeats up to ${restoredSeq ?? 'none'} restored, none after${exact ? ' (by commit timestamps)' : ' (by heartbeat clock, 1 s margin)'}` };
}
