// `check`'s privilege probes: one line per privilege in the catalog (required-privileges.ts), each failure naming
// the commands that need it and the exact GRANT to run. Reads catalogs only (has_function_privilege, pg_roles).
import type { RuntimeCluster } from '../config/index.js';
import { REQUIRED_PRIVILEGES, findMissingPrivileges, isOptionalCheckPrivilege, quoteRole, type PgClient } from '../postgres/index.js';
import { failed, passed, type CheckItem } from './check-item.js';

/** `archive`: also the privileges of `check --archive` (a plain check must not fail for lacking them). */
export async function checkPrivileges(client: PgClient, cluster: RuntimeCluster, archive = false): Promise<CheckItem[]> {
  const probed = REQUIRED_PRIVILEGES.filter((privilege) => archive || !isOptionalCheckPrivilege(privilege));
  const missing = new Set(await findMissingPrivileges(client, probed));
  const role = cluster.postgres.user;
  return probed.map((privilege) => {
    const name = `privilege ${privilege.name}`;
    const commands = privilege.commands.filter((command) => command !== 'check').join(', ');
    if (!missing.has(privilege)) return passed(name, `granted (${commands})`);
    return failed(name, `role "${role}" lacks ${privilege.name}, needed by ${commands} (for ${privilege.why})`, `as a superuser, run: ${privilege.grant(quoteRole(role))}`);
  });
}
