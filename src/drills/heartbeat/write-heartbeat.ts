// Writes one drill heartbeat: a single INSERT ... RETURNING that, when asked, also prunes old rows in the same
// statement (and so the same transaction), which keeps the table at about a day of rows.
import type { PgClient } from '../../postgres/index.js';
import { HEARTBEAT_COLUMNS, parseHeartbeatRow, type Heartbeat, type HeartbeatRow } from './heartbeat.js';
import { HEARTBEAT_RELATION } from './heartbeat-table.js';

/**
 * How long rows are kept (on the primary's clock). Pruning can never take what a drill needs: every prune runs in
 * the statement that inserts a newer row, and removes only rows older than that row by this much, so at every
 * instant T the table holds the newest heartbeat written at or before T. A restore to T (latest or a PITR target)
 * therefore finds it in the restored database, which answers "T minus the newest heartbeat at or before T" by
 * itself. A day is kept, not just the newest row, so that the primary still holds every heartbeat between a
 * drill's restored one and its instant D, and a drill can count the heartbeats lost (exactly, for an RPO below
 * a day): 8,640 rows at the default 10 s, about 0.7 MB with the index.
 */
export const HEARTBEAT_RETENTION_SECONDS = 24 * 3600;

export interface WriteHeartbeatOptions {
  /** Also delete rows older than this (seconds, on the primary's clock). Default: no pruning. */
  pruneOlderThanSeconds?: number;
}

export interface WrittenHeartbeat {
  heartbeat: Heartbeat;
  /** Rows the same statement deleted. */
  prunedRows: number;
}

/**
 * Insert a heartbeat into `lifeboat.heartbeat` (which must exist: see ensureHeartbeatTable). The CTE's DELETE
 * does not see the row the INSERT adds, so the newest row always survives.
 */
export async function writeHeartbeat(client: PgClient, options: WriteHeartbeatOptions = {}): Promise<WrittenHeartbeat> {
  const prune = options.pruneOlderThanSeconds;
  const { rows } = await client.query<HeartbeatRow & { pruned: number }>(
    prune === undefined
      ? `insert into ${HEARTBEAT_RELATION} default values returning ${HEARTBEAT_COLUMNS}, 0 as pruned`
      : `with pruned as (
           delete from ${HEARTBEAT_RELATION} where written_at < pg_catalog.clock_timestamp() - pg_catalog.make_interval(secs => $1) returning 1)
         insert into ${HEARTBEAT_RELATION} default values returning ${HEARTBEAT_COLUMNS}, (select pg_catalog.count(*) from pruned)::int as pruned`,
    prune === undefined ? [] : [prune],
  );
  const row = rows[0]!;
  return { heartbeat: parseHeartbeatRow(row), prunedRows: row.pruned };
}
