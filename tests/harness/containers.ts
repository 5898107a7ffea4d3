// The fallback path for machines without local PostgreSQL or Redis but with a Docker engine: the same
// services via testcontainers (whose Ryuk reaper removes containers of crashed runs). Only ever imported
// dynamically by postgres.ts / redis.ts, so a missing Docker never breaks an import. Deliberately minimal:
// no kill9()/start() (crash tests need local binaries), and Docker publishes ports on all host interfaces.
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { BASE_SETTINGS, formatPgHba, lifeboatRoleSql } from './postgres-config.js';
import { formatPostgresUri, queryPostgres, type PostgresRow } from './postgres-query.js';
import type { PostgresCredentials, PostgresServer, StartPostgresOptions } from './postgres.js';
import type { RedisServer } from './redis.js';

function ping(options: { socketPath?: string; host?: string; port?: number }): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ ...options, path: '/_ping', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** True when DOCKER_HOST (unix:// or tcp://) or /var/run/docker.sock answers the engine's /_ping. */
export async function isDockerReachable(): Promise<boolean> {
  const dockerHost = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  if (dockerHost.startsWith('unix://')) return ping({ socketPath: dockerHost.slice('unix://'.length) });
  if (dockerHost.startsWith('tcp://')) {
    const url = new URL(dockerHost.replace(/^tcp:/, 'http:'));
    return ping({ host: url.hostname, port: Number(url.port || 2375) });
  }
  return true; // ssh:// and others: let testcontainers try and report.
}

/** An idempotent stop() for `container`. */
function stopOnce(container: StartedTestContainer): () => Promise<void> {
  let stopping: Promise<unknown> | undefined;
  return async () => {
    stopping ??= container.stop();
    await stopping;
  };
}

const unsupported = (what: string) => async (): Promise<never> => {
  throw new Error(`${what} is not supported for containerized postgres; install PostgreSQL locally`);
};

/** PostgreSQL in Docker with the same roles, settings and scram-only pg_hba as the local path. */
export async function startPostgresContainer(options: StartPostgresOptions, image = 'postgres:16'): Promise<PostgresServer> {
  const superuser: PostgresCredentials = { user: 'postgres', password: randomBytes(18).toString('base64url') };
  const lifeboat: PostgresCredentials = { user: 'lifeboat', password: randomBytes(18).toString('base64url') };
  const settings = { ...BASE_SETTINGS, listen_addresses: '*', hba_file: '/etc/lifeboat/pg_hba.conf', ...options.settings };
  const container = await new GenericContainer(image)
    .withEnvironment({ POSTGRES_PASSWORD: superuser.password, POSTGRES_INITDB_ARGS: '--auth-host=scram-sha-256' })
    .withCopyContentToContainer([{ content: formatPgHba('0.0.0.0/0'), target: '/etc/lifeboat/pg_hba.conf', mode: 0o644 }])
    .withCommand(['postgres', ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`])])
    .withExposedPorts(5432)
    .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
    .start();
  const host = container.getHost();
  const port = container.getMappedPort(5432);
  const query = <R extends PostgresRow = PostgresRow>(sql: string, params?: readonly unknown[]): Promise<R[]> =>
    queryPostgres<R>({ host, port, database: 'postgres', ...superuser }, sql, params);
  try {
    const [row] = await query<{ server_version_num: string }>('SHOW server_version_num');
    const version = Math.floor(Number(row?.server_version_num) / 10_000);
    for (const sql of lifeboatRoleSql(lifeboat.password, version)) await query(sql);
    return {
      runtime: 'container',
      host,
      port,
      dataDir: '/var/lib/postgresql/data',
      bindir: `/usr/lib/postgresql/${version}/bin`,
      socketDir: '/var/run/postgresql',
      logFile: '',
      version,
      superuser,
      lifeboat,
      connectionUri: (role, database = 'postgres') => formatPostgresUri(host, port, role === 'superuser' ? superuser : lifeboat, database),
      query,
      start: unsupported('start()'),
      restart: async () => {
        await container.restart();
      },
      stop: stopOnce(container),
      kill9: unsupported('kill9()'),
    };
  } catch (error) {
    await container.stop();
    throw error;
  }
}

/** Redis in Docker, persistence off. */
export async function startRedisContainer(image = 'redis:7-alpine'): Promise<RedisServer> {
  const container = await new GenericContainer(image)
    .withCommand(['redis-server', '--save', '', '--appendonly', 'no'])
    .withExposedPorts(6379)
    .withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/))
    .start();
  const host = container.getHost();
  const port = container.getMappedPort(6379);
  return {
    runtime: 'container',
    host,
    port,
    url: `redis://${host}:${port}`,
    stop: stopOnce(container),
  };
}
