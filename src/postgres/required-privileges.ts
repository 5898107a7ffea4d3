// The privileges each Lifeboat command needs on the server beyond LOGIN, in one catalog: what to probe
// (side-effect free), which commands need it, and the exact statement that grants it. `check` probes the whole
// catalog, commands probe their own entries before touching anything, and a permission error raised by a query
// is mapped back to its entry (map-query-error.ts), so the operator is always told the GRANT to run.
import type pg from 'pg';
import { LifeboatError } from '../errors/index.js';

/** The commands that act on the server; `restore`, `wal fetch`, `verify` and the catalog never connect to it. */
export type ServerCommand = 'check' | 'check --archive' | 'backup full' | 'wal archive' | 'restore-point' | 'cluster drop-slots';

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
  /** A query returning one row with a boolean `ok` for the current role; reads catalogs only. */
  probeSql: string;
  /** The statement a superuser runs to grant it to `role` (already quoted). */
  grant(role: string): string;
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

/** Probe each of `privileges` for the connected role; returns those it lacks. */
export async function findMissingPrivileges(client: pg.Client, privileges: readonly RequiredPrivilege[]): Promise<RequiredPrivilege[]> {
  const missing: RequiredPrivilege[] = [];
  for (const privilege of privileges) {
    const { rows } = await client.query<{ ok: boolean | null }>(privilege.probeSql);
    if (rows[0]?.ok !== true) missing.push(privilege);
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
