// startPostgres(): a fresh, real PostgreSQL cluster per caller, on 127.0.0.1 with scram-sha-256 auth, a
// superuser and a least-privilege `lifeboat` role. Uses the local binaries (see local-postgres.ts) and only
// when they are missing falls back to a Docker container (containers.ts, imported lazily).
import { findPostgresBindir } from './postgres-binaries.js';
import type { PostgresRow } from './postgres-query.js';

/** A database login. */
export interface PostgresCredentials {
  user: string;
  password: string;
}

/** Options for {@link startPostgres}. */
export interface StartPostgresOptions {
  /** Extra postgresql.conf settings (name to value, e.g. `{ archive_mode: 'on' }`); they override the harness defaults. */
  settings?: Record<string, string>;
}

/** A running test cluster. Everything it owns lives under one temp dir that stop() removes. */
export interface PostgresServer {
  /** `local`: binaries on this machine; `container`: Docker (dataDir, bindir, socketDir are paths in the container). */
  runtime: 'local' | 'container';
  /** Always `127.0.0.1`. */
  host: string;
  port: number;
  dataDir: string;
  /** Directory of initdb, pg_ctl, pg_basebackup, pg_receivewal... matching the server version. */
  bindir: string;
  /** The server log (pg_ctl -l); empty string for containers (use `docker logs`). */
  logFile: string;
  /** The unix socket directory (owned by the postgres OS user; trust auth for db user `postgres`). */
  socketDir: string;
  /** Server major version, e.g. 15. */
  version: number;
  superuser: PostgresCredentials;
  /** LOGIN REPLICATION role with monitoring and backup-control grants; see lifeboatRoleSql(). */
  lifeboat: PostgresCredentials;
  /** A `postgresql://` URI for `role` over TCP. Default database: `postgres`. */
  connectionUri(role: 'superuser' | 'lifeboat', database?: string): string;
  /** Runs `sql` as the superuser over TCP on a fresh connection; returns the rows. */
  query<R extends PostgresRow = PostgresRow>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** Starts the server again after kill9() (crash recovery runs) or after a settings change. */
  start(): Promise<void>;
  /** Restarts with `pg_ctl restart -m fast`, e.g. after ALTER SYSTEM of a restart-only setting. */
  restart(): Promise<void>;
  /** Fast shutdown, then removes the temp dir. Idempotent; safe after kill9(). */
  stop(): Promise<void>;
  /** SIGKILLs the postmaster and every backend at once (a crash), and waits until they are gone. */
  kill9(): Promise<void>;
}

/** Starts a cluster from local binaries, or in Docker when PostgreSQL is not installed but Docker is reachable. */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const bindir = findPostgresBindir();
  if (bindir !== undefined) {
    const { startLocalPostgres } = await import('./local-postgres.js');
    return startLocalPostgres(bindir, options);
  }
  const containers = await import('./containers.js');
  if (!(await containers.isDockerReachable())) {
    throw new Error('no local PostgreSQL (pg_config / /usr/lib/postgresql/*/bin) and no reachable Docker engine');
  }
  return containers.startPostgresContainer(options);
}
