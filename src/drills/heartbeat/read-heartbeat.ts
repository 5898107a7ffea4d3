// Reads the drill heartbeat back: the newest row (at or before an instant), from the primary at a drill's instant
// D or from the restored copy; and how many heartbeats fall after a given one, for "heartbeats lost".
import type { PgClient } from '../../postgres/index.js';
import { HEARTBEAT_COLUMNS, parseHeartbeatRow, type Heartbeat, type HeartbeatRow } from './heartbeat.js';
import { HEARTBEAT_RELATION, heartbeatTableExists } from './heartbeat-table.js';

/**
 * An instant to compare with `written_at`: a Date (millisecond precision), or an ISO 8601 text with zone passed to
 * PostgreSQL as is, which keeps the microseconds of a `clock_timestamp()` read from the primary.
 */
export type HeartbeatInstant = Date | string;

/**
 * The newest heartbeat written at or before `atOrBefore` (default: the newest of all); undefined when the table
 * does not exist or holds no such row (tell the two apart with heartbeatTableExists). Needs SELECT on the table.
 */
export async function readNewestHeartbeat(client: PgClient, atOrBefore?: HeartbeatInstant): Promise<Heartbeat | undefined> {
  if (!(await heartbeatTableExists(client))) return undefined;
  const { rows } = await client.query<HeartbeatRow>(
    `select ${HEARTBEAT_COLUMNS} from ${HEARTBEAT_RELATION}
      where $1::timestamptz is null or written_at <= $1::timestamptz
      order by written_at desc, seq desc limit 1`,
    [atOrBefore ?? null],
  );
  return rows[0] === undefined ? undefined : parseHeartbeatRow(rows[0]);
}

/**
 * Heartbeats with a `seq` above `afterSeq` written at or before `atOrBefore`: on the primary, the heartbeats a
 * restored copy whose newest is `afterSeq` lacks. Counted rows, not a `seq` difference, which gaps would inflate.
 * Exact while the primary still holds them (HEARTBEAT_RETENTION_SECONDS); 0 when the table does not exist.
 */
export async function countHeartbeatsAfter(client: PgClient, afterSeq: number, atOrBefore: HeartbeatInstant): Promise<number> {
  if (!(await heartbeatTableExists(client))) return 0;
  const { rows } = await client.query<{ count: number }>(
    `select pg_catalog.count(*)::int as count from ${HEARTBEAT_RELATION} where seq > $1 and written_at <= $2::timestamptz`,
    [afterSeq, atOrBefore],
  );
  return rows[0]?.count ?? 0;
}
