// The drill heartbeat's table, `lifeboat.heartbeat` in the cluster's database: created by Lifeboat when the role
// may (it owns the schema `lifeboat`, or has CREATE on the database), else refused with the exact statement an
// admin runs. Rows carry the primary's clock and WAL position, so a restored copy says how much it lost.
import { LifeboatError } from '../../errors/index.js';
import { HEARTBEAT_PRIVILEGE, HEARTBEAT_SCHEMA, HEARTBEAT_TABLE, findMissingPrivileges, quoteRole, type PgClient, type RequiredPrivilege } from '../../postgres/index.js';

/** The table, schema-qualified, for SQL. */
export const HEARTBEAT_RELATION = `${HEARTBEAT_SCHEMA}.${HEARTBEAT_TABLE}`;

/**
 * `seq` is an identity column, not serial: INSERT draws identity values without USAGE on the sequence, so a role
 * granted only the table's privileges can write it. Defaults are evaluated by the primary at the insert, so a
 * plain `INSERT ... DEFAULT VALUES` records its clock (clock_timestamp(), not the transaction start) and its WAL
 * position (the row's own WAL record follows `lsn`).
 */
const CREATE_TABLE_SQL = `create table if not exists ${HEARTBEAT_RELATION} (
  seq bigint generated always as identity primary key,
  written_at timestamptz not null default pg_catalog.clock_timestamp(),
  lsn pg_lsn not null default pg_catalog.pg_current_wal_lsn()
)`;

const TABLE_COMMENT = 'Lifeboat drill heartbeat: one row per clusters[].drill.heartbeatSeconds, pruned after a day; drills read it to measure RPO. Safe to drop with heartbeatSeconds: 0.';

/** Whether `lifeboat.heartbeat` exists; reads the catalogs, so it needs no privilege on the schema. */
export async function heartbeatTableExists(client: PgClient): Promise<boolean> {
  const { rows } = await client.query<{ exists: boolean }>(
    `select exists (select from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname = $1 and c.relname = $2) as exists`,
    [HEARTBEAT_SCHEMA, HEARTBEAT_TABLE],
  );
  return rows[0]?.exists === true;
}

/** The error for a role that can neither write the table nor create it: the statement for this server, or heartbeat off. */
export function heartbeatPrivilegeError(role: string, database: string, missing: RequiredPrivilege): LifeboatError {
  return new LifeboatError('postgresConfig', `role "${role}" lacks ${missing.name} in database "${database}", needed by the daemon for the drill heartbeat`, {
    hint: `as a superuser, in database "${database}", run: ${missing.grant(quoteRole(role))} (or set clusters[].drill.heartbeatSeconds: 0 to go without the heartbeat: drills then measure RPO from commit timestamps, when track_commit_timestamp is on)`,
  });
}

/**
 * Make sure the connected role can write `lifeboat.heartbeat`, creating schema and table when missing. Probes
 * first: CREATE SCHEMA / CREATE TABLE IF NOT EXISTS check CREATE before they look whether the object exists, so
 * they are issued only for what is missing. An advisory lock serialises daemons doing this at the same moment.
 */
export async function ensureHeartbeatTable(client: PgClient, role: string, database: string): Promise<void> {
  const missing = await findMissingPrivileges(client, [HEARTBEAT_PRIVILEGE]);
  if (missing.length > 0) throw heartbeatPrivilegeError(role, database, missing[0]!);
  if (await heartbeatTableExists(client)) return;
  await client.query('begin');
  try {
    await client.query('select pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext($1))', [HEARTBEAT_RELATION]);
    const { rows } = await client.query<{ schema: boolean }>('select exists (select from pg_catalog.pg_namespace where nspname = $1) as schema', [HEARTBEAT_SCHEMA]);
    if (rows[0]?.schema !== true) await client.query(`create schema if not exists ${HEARTBEAT_SCHEMA}`);
    if (!(await heartbeatTableExists(client))) {
      await client.query(CREATE_TABLE_SQL);
      await client.query(`comment on table ${HEARTBEAT_RELATION} is '${TABLE_COMMENT}'`);
    }
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  }
}
