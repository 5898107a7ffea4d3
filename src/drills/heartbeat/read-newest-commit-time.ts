// RPO without the heartbeat (clusters[].drill.heartbeatSeconds: 0): the newest commit timestamp the server
// holds, when track_commit_timestamp is on; otherwise RPO is unmeasured, and the reading says why.
import type { PgClient } from '../../postgres/index.js';
import type { HeartbeatInstant } from './read-heartbeat.js';

/** How far back (transaction ids) the search for a commit at or before an instant looks; ~0.1 s of scanning. */
const XID_WINDOW = 100_000;

export type CommitTimeReading =
  | { method: 'commit-timestamp'; newestCommitTime: Date }
  | { method: 'unmeasured'; reason: string };

/**
 * The newest commit timestamp at or before `atOrBefore` (default: the newest of all). Without a bound,
 * pg_last_committed_xact() answers at once; it forgets across a server restart, and cannot take a bound, so then
 * the commit timestamps of the last XID_WINDOW transaction ids are searched instead (aborted and running ones
 * have none). A commit older than that window, or than when track_commit_timestamp was turned on, is not found.
 */
export async function readNewestCommitTime(client: PgClient, atOrBefore?: HeartbeatInstant): Promise<CommitTimeReading> {
  const { rows: settings } = await client.query<{ on: boolean }>("select pg_catalog.current_setting('track_commit_timestamp')::boolean as on");
  if (settings[0]?.on !== true) {
    return { method: 'unmeasured', reason: 'no heartbeat and track_commit_timestamp is off: the server records no commit times' };
  }
  if (atOrBefore === undefined) {
    const { rows } = await client.query<{ timestamp: Date | null }>('select timestamp from pg_catalog.pg_last_committed_xact()');
    if (rows[0]?.timestamp) return { method: 'commit-timestamp', newestCommitTime: rows[0].timestamp };
  }
  // xid8 values, so the window never wraps; xids 0-2 are special (no commit timestamp).
  const { rows } = await client.query<{ newest: Date | null }>(
    `with bounds as (select pg_catalog.pg_snapshot_xmax(pg_catalog.pg_current_snapshot())::text::bigint as xmax),
          commits as (
            select pg_catalog.pg_xact_commit_timestamp((x % 4294967296)::text::xid) as ts
              from bounds, pg_catalog.generate_series(greatest(bounds.xmax - $2, 3), bounds.xmax - 1) as x
             where x % 4294967296 >= 3)
     select max(ts) as newest from commits where $1::timestamptz is null or ts <= $1::timestamptz`,
    [atOrBefore ?? null, XID_WINDOW],
  );
  const newest = rows[0]?.newest;
  if (newest) return { method: 'commit-timestamp', newestCommitTime: newest };
  return { method: 'unmeasured', reason: `no heartbeat, and no commit timestamp${atOrBefore === undefined ? '' : ' at or before the target'} among the last ${XID_WINDOW} transactions` };
}
