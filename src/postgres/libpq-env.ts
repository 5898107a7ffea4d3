// The environment for libpq child processes (pg_basebackup, pg_receivewal, psql): connection parameters as
// PG* variables and the password via PGPASSFILE only. Inherited PGPASSWORD and friends are dropped, and so is
// any variable holding a resolved secret (the one a config reference named, AWS keys).
import type { RuntimeCluster } from '../config/index.js';
import { withoutSecretVariables } from '../log/index.js';

type PostgresSettings = RuntimeCluster['postgres'];

/** Variables that would override or leak what we pass; never inherited by a child. */
const DROPPED = ['PGPASSWORD', 'PGPASSFILE', 'PGSERVICE', 'PGSERVICEFILE', 'PGHOST', 'PGHOSTADDR', 'PGPORT', 'PGUSER', 'PGDATABASE', 'PGSSLMODE', 'PGSSLROOTCERT', 'PGOPTIONS'];

export function createLibpqEnv(
  postgres: PostgresSettings,
  options: { passFile?: string; applicationName: string; baseEnv?: NodeJS.ProcessEnv },
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = withoutSecretVariables(options.baseEnv ?? process.env);
  for (const name of DROPPED) delete env[name];
  env.PGHOST = postgres.host;
  env.PGPORT = String(postgres.port);
  env.PGUSER = postgres.user;
  env.PGDATABASE = postgres.dbname;
  env.PGSSLMODE = postgres.sslmode;
  env.PGAPPNAME = options.applicationName;
  env.PGCONNECT_TIMEOUT = '10';
  if (postgres.sslrootcert) env.PGSSLROOTCERT = postgres.sslrootcert;
  if (options.passFile) env.PGPASSFILE = options.passFile;
  return env;
}
