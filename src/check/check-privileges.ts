// `check`'s privilege probes: one line per privilege in the catalog (required-privileges.ts), each failure naming
// the commands that need it and the exact GRANT to run. Reads catalogs only (has_function_privilege, pg_roles).
import type { RuntimeCluster } from '../config/index.js';
import { REQUIRED_PRIVILEGES, findMissingPrivileges, quoteRole, type PgClient } from '../postgres/index.js';
import { failed, passed, type CheckItem } from './check-item.js';

export async function checkPrivileges(client: PgClient, cluster: RuntimeCluster): Promise<CheckItem[]> {
  const missing = new Set(await findMissingPrivileges(client, REQUIRED_PRIVILEGES));
  const role = cluster.postgres.user;
  return REQUIRED_PRIVILEGES.map((privilege) => {
    const name = `privilege ${privilege.name}`;
    const commands = privilege.commands.filter((command) => command !== 'check').join(', ');
    if (!missing.has(privilege)) return passed(name, `granted (${commands})`);
    return failed(name, `role "${role}" lacks ${privilege.name}, needed by ${commands} (for ${privilege.why})`, `as a superuser, run: ${privilege.grant(quoteRole(role))}`);
  });
}
