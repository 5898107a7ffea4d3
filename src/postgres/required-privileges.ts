// The privileges each Lifeboat command needs on the server beyond LOGIN, in one catalog: what to probe
// (side-effect free), which commands need it, and the exact statement that grants it. `check` probes the whole
// catalog, commands probe their own entries before touching anything, and a permission error raised by a query
// is mapped back to its entry (map-query-error.ts), so the operator is always told the GRANT to run.
import type pg from 'pg';
import type { RuntimeCluster } from '../config/index.js';
import { LifeboatError } from '../errors/index.js';

/**
 * The commands that act on the server; `restore`, `wal fetch`, `verify` and the catalog never connect to it.
 * `daemon` is the daemon's own work on the server (the drill heartbeat), not the jobs it runs.
 */
export type ServerCommand = 'check' | 'check --archive' | 'backup full' | 'wal archive' | 'restore-point' | 'cluster drop-slots' | 'daemon';

/** One privilege a command needs. */
export interface RequiredPrivilege {
  /** How the privilege reads in messages, e.g. `EXECUTE on pg_catalog.pg_ls_waldir()`. */
  name: string;
  /** The function it guards, as PostgreSQL names it in "permission denied for function ..."; none for role attributes. */
  functionName?: string;
  /** The commands that fail without it. */
  commands: readonly ServerCommand[];
  /** What Lifeboat uses it for (a noun phrase), for the check report. */
  why: string;
  /**
   * A query returning one row with a boolean `ok` for the current role; reads catalogs only. It may also return a
   * text `state` (what exists on the server), which then picks the statement {@link grant} prints.
   */
  probeSql: string;
  /**
   * The statement a superuser runs, in the cluster's database (`clusters[].postgres.dbname`), to grant it to
   * `role` (already quoted); `state` is what the probe found, undefined for the statement README prints.
   */
  grant(role: string, state?: string): string;
  /** Whether `cluster`'s config needs it at all (default: always), e.g. no heartbeat table with heartbeatSeconds 0. */
  isNeeded?(cluster: RuntimeCluster): boolean;
}

/** EXECUTE on the pg_catalog function `signature` (e.g. `pg_ls_waldir()`), which PostgreSQL grants to superusers only. */
function executeOn(signature: string, commands: readonly ServerCommand[], why: string): RequiredPrivilege {
  const qualified = `pg_catalog.${signature}`;
  return {
    name: `EXECUTE on ${qualified}`,
    functionName: signature.slice(0, signature.indexOf('(')),
    commands,
    why,
    probeSql: `select pg_catalog.has_function_privilege('${qualified}', 'EXECUTE') as ok`,
    grant: (role) => `GRANT EXECUTE ON FUNCTION ${qualified} TO ${role};`,
  };
}

/** Where the daemon writes the drill heartbeat (src/drills/heartbeat), in the cluster's database. */
export const HEARTBEAT_SCHEMA = 'lifeboat';
export const HEARTBEAT_TABLE = 'heartbeat';

/**
 * The drill heartbeat's table: the role may write it once it owns the schema `lifeboat` (it then creates the table
 * itself), or, when an admin made schema and table, with USAGE on the schema and SELECT, INSERT, DELETE on the
 * table. No sequence grant: `seq` is an identity column, whose values INSERT draws without USAGE on the sequence.
 * The probe's `state` says what exists, so the printed statement is the one that fixes this server:
 * `none` (no schema), `schema` (schema without the table), `table` (both exist). A denial raised by a query
 * cannot tell these apart, so map-query-error.ts leaves it to its generic message pointing at `lifeboat check`.
 */
export const HEARTBEAT_PRIVILEGE: RequiredPrivilege = {
  name: `SELECT, INSERT, DELETE on ${HEARTBEAT_SCHEMA}.${HEARTBEAT_TABLE}`,
  commands: ['check', 'daemon'],
  why: 'the drill heartbeat the daemon writes every clusters[].drill.heartbeatSeconds (0 leaves it out)',
  probeSql: `select case
      when t.oid is not null then pg_catalog.has_schema_privilege(n.oid, 'USAGE')
        and pg_catalog.has_table_privilege(t.oid, 'SELECT') and pg_catalog.has_table_privilege(t.oid, 'INSERT')
        and pg_catalog.has_table_privilege(t.oid, 'DELETE')
      when n.oid is not null then pg_catalog.has_schema_privilege(n.oid, 'USAGE') and pg_catalog.has_schema_privilege(n.oid, 'CREATE')
      else pg_catalog.has_database_privilege(pg_catalog.current_database(), 'CREATE')
    end as ok,
    case when t.oid is not null then 'table' when n.oid is not null then 'schema' else 'none' end as state
    from (select) as one
    left join pg_catalog.pg_namespace n on n.nspname = '${HEARTBEAT_SCHEMA}'
    left join pg_catalog.pg_class t on t.relnamespace = n.oid and t.relname = '${HEARTBEAT_TABLE}'`,
  grant: (role, state) => {
    if (state === 'table') return `GRANT USAGE ON SCHEMA ${HEARTBEAT_SCHEMA} TO ${role}; GRANT SELECT, INSERT, DELETE ON ${HEARTBEAT_SCHEMA}.${HEARTBEAT_TABLE} TO ${role};`;
    if (state === 'schema') return `GRANT USAGE, CREATE ON SCHEMA ${HEARTBEAT_SCHEMA} TO ${role};`;
    return `CREATE SCHEMA IF NOT EXISTS ${HEARTBEAT_SCHEMA} AUTHORIZATION ${role};`;
  },
  isNeeded: (cluster) => cluster.drill.heartbeatSeconds > 0,
};

/**
 * Everything beyond LOGIN. Backup-control functions (pg_backup_start, CHECKPOINT) are not needed: pg_basebackup's
 * BASE_BACKUP runs over the replication protocol. pg_terminate_backend needs nothing for the role's own walsenders.
 */
export const REQUIRED_PRIVILEGES: readonly RequiredPrivilege[] = [
  {
    name: 'REPLICATION',
    commands: ['check', 'backup full', 'wal archive', 'cluster drop-slots'],
    why: 'replication connections (pg_basebackup, pg_receivewal, timeline history) and creating, advancing and dropping its slots',
    probeSql: 'select rolreplication or rolsuper as ok from pg_catalog.pg_roles where rolname = current_user',
    grant: (role) => `ALTER ROLE ${role} REPLICATION;`,
  },
  executeOn('pg_ls_waldir()', ['wal archive'], 'listing pg_wal, to confirm the server still holds the WAL where streaming resumes'),
  executeOn('pg_create_restore_point(text)', ['restore-point'], 'creating the named restore point'),
  executeOn('pg_switch_wal()', ['check --archive'], 'completing a WAL segment for the end-to-end archive check'),
  HEARTBEAT_PRIVILEGE,
];

/** Privileges only an optional check needs: probed by `check` only when that check was asked for. */
export function isOptionalCheckPrivilege(privilege: RequiredPrivilege): boolean {
  return privilege.commands.every((command) => command === 'check --archive');
}

/** `role` as an SQL identifier, always double-quoted: safe for any name, reserved words and capitals included. */
export function quoteRole(role: string): string {
  return `"${role.replaceAll('"', '""')}"`;
}

/** The privileges `command` needs (all of them when undefined). */
export function privilegesFor(command?: ServerCommand): RequiredPrivilege[] {
  return REQUIRED_PRIVILEGES.filter((privilege) => command === undefined || privilege.commands.includes(command));
}

/**
 * Probe each of `privileges` for the connected role; returns those it lacks, each with its `grant` bound to the
 * state its probe found (so a copy of the entry when the probe returned one: compare entries by name).
 */
export async function findMissingPrivileges(client: pg.Client, privileges: readonly RequiredPrivilege[]): Promise<RequiredPrivilege[]> {
  const missing: RequiredPrivilege[] = [];
  for (const privilege of privileges) {
    const { rows } = await client.query<{ ok: boolean | null; state?: string | null }>(privilege.probeSql);
    if (rows[0]?.ok === true) continue;
    const state = rows[0]?.state ?? undefined;
    missing.push(state === undefined ? privilege : { ...privilege, grant: (role) => privilege.grant(role, state) });
  }
  return missing;
}

/**
 * The error for a role lacking `missing` (at least one), naming every GRANT to run. `command` is the command that
 * needed them; without it the message names every command that does.
 */
export function missingPrivilegesError(role: string, missing: readonly RequiredPrivilege[], command?: ServerCommand, cause?: unknown): LifeboatError {
  const names = missing.map((privilege) => privilege.name).join(' and ');
  const grants = missing.map((privilege) => privilege.grant(quoteRole(role))).join(' ');
  const needers = command ?? [...new Set(missing.flatMap((privilege) => privilege.commands.filter((c) => c !== 'check')))].join(', ');
  return new LifeboatError('postgresConfig', `role "${role}" lacks ${names}, needed by ${needers}`, {
    hint: `as a superuser, run: ${grants} (\`lifeboat check\` lists every grant Lifeboat needs)`,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Throw a postgresConfig error naming the GRANTs when the connected role lacks what `command` needs. */
export async function requirePrivileges(client: pg.Client, role: string, command: ServerCommand): Promise<void> {
  const missing = await findMissingPrivileges(client, privilegesFor(command));
  if (missing.length > 0) throw missingPrivilegesError(role, missing, command);
}
