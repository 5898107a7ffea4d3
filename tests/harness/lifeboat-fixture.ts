// Builds a Lifeboat setup around a test PostgreSQL: a temp folder holding the fs repository, the local key
// and the state folder, a runtime config whose password is a real env reference (also written to
// lifeboat.yaml, so a child `lifeboat` process can load the same config), and pgbench helpers.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, resolveConfig, type RuntimeConfig } from '../../src/config/index.js';
import { runProcess, type RunProcessResult } from './run-process.js';
import type { PostgresServer } from './postgres.js';

export interface LifeboatFixture {
  dir: string;
  config: RuntimeConfig;
  /** The same config as a file (`<dir>/lifeboat.yaml`), for `lifeboat --config` in a child process. */
  configPath: string;
  /** The env the config resolves its password from. */
  env: NodeJS.ProcessEnv;
  cleanup(): void;
}

export interface FixtureOptions {
  /** Extra config fields merged at the top level (e.g. a repository override). */
  overrides?: Record<string, unknown>;
  /** Per-cluster overrides (wal, backup sections). */
  cluster?: Record<string, unknown>;
  name?: string;
}

export function createLifeboatFixture(pg: PostgresServer, options: FixtureOptions = {}): LifeboatFixture {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-fixture-'));
  const env = { ...process.env, FIXTURE_PGPASSWORD: pg.lifeboat.password };
  const raw = {
    clusters: [
      {
        name: options.name ?? 'main',
        postgres: { host: pg.host, port: pg.port, user: pg.lifeboat.user, dbname: 'postgres', password: { env: 'FIXTURE_PGPASSWORD' }, sslmode: 'disable', bindir: pg.bindir },
        wal: { partialUploadIntervalSeconds: 5, archiveTimeoutSeconds: 60 },
        backup: { checkpoint: 'fast', partSizeMiB: 8 },
        ...options.cluster,
      },
    ],
    repository: { driver: 'fs', path: './repo' },
    encryption: { provider: 'local', keyFile: './keys/lifeboat.key' },
    stateDir: './state',
    ...options.overrides,
  };
  const configPath = join(dir, 'lifeboat.yaml');
  // JSON is YAML: the file holds exactly what was parsed above, with the password still an env reference.
  writeFileSync(configPath, `${JSON.stringify(raw, null, 2)}\n`, { mode: 0o600 });
  const config = resolveConfig(parseConfig(raw, 'fixture'), configPath, env);
  return { dir, config, configPath, env, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Run pgbench against the server as the superuser (test load only). */
export function pgbench(pg: PostgresServer, args: readonly string[], timeoutMs = 300_000): Promise<RunProcessResult> {
  return runProcess(join(pg.bindir, 'pgbench'), ['-h', pg.host, '-p', String(pg.port), '-U', pg.superuser.user, ...args, 'postgres'], {
    env: { ...process.env, PGPASSWORD: pg.superuser.password },
    timeoutMs,
  });
}
