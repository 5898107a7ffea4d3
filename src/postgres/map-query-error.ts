// Turns a permission error raised by a query (SQLSTATE 42501, insufficient_privilege) into a postgresConfig
// error naming the GRANT to run, so a missing privilege never surfaces as a bug report or a retry loop.
// Commands probe their privileges up front (required-privileges.ts); this catches whatever slips past that.
import { LifeboatError } from '../errors/index.js';
import { REQUIRED_PRIVILEGES, missingPrivilegesError } from './required-privileges.js';

const INSUFFICIENT_PRIVILEGE = '42501';

/** The catalog entry a permission error message points at, if any. */
function privilegeOf(message: string): (typeof REQUIRED_PRIVILEGES)[number] | undefined {
  const fn = /permission denied for function (\w+)/.exec(message)?.[1];
  if (fn !== undefined) return REQUIRED_PRIVILEGES.find((privilege) => privilege.functionName === fn);
  // Slot functions: "permission denied to use replication slots" / "must be superuser or replication role ...".
  if (/replication/i.test(message)) return REQUIRED_PRIVILEGES.find((privilege) => privilege.name === 'REPLICATION');
  return undefined;
}

/** `error` itself unless it is a PostgreSQL permission error, which becomes a postgresConfig LifeboatError. */
export function mapQueryError(error: unknown, role: string): unknown {
  if ((error as { code?: unknown } | null)?.code !== INSUFFICIENT_PRIVILEGE) return error;
  const message = (error as Error).message;
  const privilege = privilegeOf(message);
  if (privilege !== undefined) return missingPrivilegesError(role, [privilege], undefined, error);
  return new LifeboatError('postgresConfig', `role "${role}" lacks a privilege: ${message}`, {
    hint: 'grant the role the privilege named above (README, "PostgreSQL role", lists what each command needs); `lifeboat check` probes them',
    cause: error,
  });
}
