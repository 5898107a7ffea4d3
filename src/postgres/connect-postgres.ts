// Opens a SQL connection to a cluster with the `pg` driver, mapping libpq's sslmode onto Node TLS options and
// every failure onto an error that says what to check (address, password reference, pg_hba.conf, TLS).
import { readFileSync } from 'node:fs';
import type pg from 'pg';
import type { ConnectionOptions } from 'node:tls';
import { LifeboatError, describeError } from '../errors/index.js';
import type { RuntimeCluster } from '../config/index.js';
import { mapQueryError } from './map-query-error.js';

type PostgresSettings = RuntimeCluster['postgres'];
export type PgClient = pg.Client;

function tlsOptions(postgres: PostgresSettings): ConnectionOptions | false {
  const ca = postgres.sslrootcert ? readFileSync(postgres.sslrootcert, 'utf8') : undefined;
  switch (postgres.sslmode) {
    case 'disable':
      return false;
    case 'prefer':
    case 'require':
      return { rejectUnauthorized: false };
    case 'verify-ca':
      // Chain must verify against the CA; the host name is not checked (libpq semantics).
      return { rejectUnauthorized: true, ca, checkServerIdentity: () => undefined };
    case 'verify-full':
      return { rejectUnauthorized: true, ca };
  }
}

function describeTarget(postgres: PostgresSettings): string {
  return `${postgres.user}@${postgres.host}:${postgres.port}/${postgres.dbname}`;
}

/** Translate a connection failure into a LifeboatError with a hint. */
export function mapConnectError(error: unknown, postgres: PostgresSettings): LifeboatError {
  const target = describeTarget(postgres);
  const code = (error as { code?: string }).code;
  const message = describeError(error);
  if (code === '28P01' || code === '28000') {
    return new LifeboatError('postgresUnavailable', `postgres refused ${target}: ${message}`, {
      hint: 'check clusters[].postgres.password (its env var or file) and the server\'s pg_hba.conf entry for this host and user',
      cause: error,
    });
  }
  if (code === '3D000') {
    return new LifeboatError('postgresConfig', `database "${postgres.dbname}" does not exist on ${postgres.host}:${postgres.port}`, {
      hint: 'set clusters[].postgres.dbname to an existing database (postgres is always there)',
      cause: error,
    });
  }
  if (/does not support SSL/i.test(message) || /certificate|self[- ]signed|SSL/i.test(message)) {
    return new LifeboatError('postgresUnavailable', `TLS to ${postgres.host}:${postgres.port} failed: ${message}`, {
      hint: 'check clusters[].postgres.sslmode and sslrootcert against the server\'s ssl settings',
      cause: error,
    });
  }
  return new LifeboatError('postgresUnavailable', `cannot connect to postgres at ${postgres.host}:${postgres.port}: ${message}`, {
    hint: 'check that the server is running and that clusters[].postgres.host and port are right',
    cause: error,
  });
}

/** How to connect; see {@link connectPostgres}. */
export interface ConnectOptions {
  /**
   * A walsender connection bound to the database (`replication=database`), which takes replication commands such
   * as TIMELINE_HISTORY besides SQL. Needs the REPLICATION attribute; pg_hba.conf matches it as a normal connection.
   */
  replication?: boolean;
}

async function tryConnect(postgres: PostgresSettings, password: string | undefined, ssl: ConnectionOptions | false, applicationName: string, options: ConnectOptions): Promise<pg.Client> {
  // Loaded on the first connection, not with this module: commands that never connect (restore, wal fetch, verify)
  // import the postgres helpers but need not pay the driver's ~10 MB.
  const { default: driver } = await import('pg');
  const client = new driver.Client({
    ...(options.replication === true ? { replication: 'database' } : {}),
    host: postgres.host,
    port: postgres.port,
    user: postgres.user,
    database: postgres.dbname,
    password,
    ssl,
    application_name: applicationName,
    connectionTimeoutMillis: 10_000,
  });
  // An idle connection can still fail later; without a listener that would crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
}

/**
 * Every promise-returning query of `client` rejects with a postgresConfig error naming the GRANT to run when
 * PostgreSQL denies a privilege, wherever the query is made. Streams (submittables) are returned unchanged.
 */
function mapPermissionErrors(client: pg.Client, role: string): pg.Client {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const result = query(...args);
    return result instanceof Promise ? result.catch((error: unknown) => Promise.reject(mapQueryError(error, role))) : result;
  };
  return client;
}

/** Connect for SQL. The caller ends the client. */
export async function connectPostgres(postgres: PostgresSettings, applicationName = 'lifeboat', options: ConnectOptions = {}): Promise<pg.Client> {
  return mapPermissionErrors(await connectWithFallback(postgres, applicationName, options), postgres.user);
}

async function connectWithFallback(postgres: PostgresSettings, applicationName: string, options: ConnectOptions): Promise<pg.Client> {
  const ssl = tlsOptions(postgres);
  // Outside the try: an unresolvable password reference is a `secret` error naming its field, not a connect failure.
  const password = postgres.password?.reveal();
  try {
    return await tryConnect(postgres, password, ssl, applicationName, options);
  } catch (error) {
    // sslmode=prefer: fall back to plaintext only when the server has no TLS at all, like libpq.
    if (postgres.sslmode === 'prefer' && /does not support SSL/i.test(describeError(error))) {
      try {
        return await tryConnect(postgres, password, false, applicationName, options);
      } catch (plainError) {
        throw mapConnectError(plainError, postgres);
      }
    }
    throw mapConnectError(error, postgres);
  }
}
