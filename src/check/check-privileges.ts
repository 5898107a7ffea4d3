// `check`'s privilege probes: one line per privilege in the catalog (required-privileges.ts), each failure naming
// the commands that need it and the exact GRANT to run, in the cluster's database (function privileges and the
// heartbeat's schema live in a database). Reads catalogs only (has_*_privilege, pg_roles, pg_namespace).
import type { RuntimeCluster } from '../config/index.js';
import { REQUIRED_PRIVILEGES, findMissingPrivileges, isOptionalCheckPrivilege, quoteRole, type PgClient } from '../postgres/index.js';
import { failed, passed, type CheckItem } from './check-item.js';

/** `archive`: also the privileges of `check --archive` (a plain check must not fail for lacking them). */
export async function checkPrivileges(client: PgClient, cluster: RuntimeCluster, archive = false): Promise<CheckItem[]> {
  const probed = REQUIRED_PRIVILEGES.filter((privilege) => (archive || !isOptionalCheckPrivilege(privilege)) && (privilege.isNeeded?.(cluster) ?? true));
  // By name: a missing entry comes back with its GRANT bound to what the probe found on this server.
  const missing = new Map((await findMissingPrivileges(client, probed)).map((privilege) => [privilege.name, privilege]));
  const role = cluster.postgres.user;
  return probed.map((privilege) => {
    const name = `privilege ${privilege.name}`;
    const commands = privilege.commands.filter((command) => command !== 'check').join(', ');
    const lacking = missing.get(privilege.name);
    if (lacking === undefined) return passed(name, `granted (${commands})`);
    const hint = `as a superuser, in database "${cluster.postgres.dbname}", run: ${lacking.grant(quoteRole(role))}`;
    return failed(name, `role "${role}" lacks ${privilege.name}, needed by ${commands} (for ${privilege.why})`, hint);
  });
}
