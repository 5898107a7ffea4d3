// PostgreSQL clusters for the benchmarks, from the test harness (initdb in a temp dir, scram auth, a `lifeboat`
// replication role), with the few settings that keep bulk loads from checkpointing constantly.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createLifeboatFixture, pgbench, type LifeboatFixture } from '../../tests/harness/lifeboat-fixture.js';
import { startPostgres, type PostgresServer } from '../../tests/harness/postgres.js';
import { runAsPostgres } from '../../tests/harness/run-as-postgres.js';

/** Server settings on top of the harness defaults (wal_level=replica, scram, 127.0.0.1), printed with the results. */
export const BENCH_PG_SETTINGS: Readonly<Record<string, string>> = { max_wal_size: '4GB', shared_buffers: '256MB' };

/** A bench cluster with {@link BENCH_PG_SETTINGS} and `extra` settings on top (e.g. archive_mode for pgBackRest). */
export function startBenchPostgres(extra: Readonly<Record<string, string>> = {}): Promise<PostgresServer> {
  return startPostgres({ settings: { ...BENCH_PG_SETTINGS, ...extra } });
}

/** Runs pgbench as the superuser against database `postgres`; returns its stdout. Long timeouts: loads take minutes. */
export async function runPgbench(pg: PostgresServer, args: readonly string[]): Promise<string> {
  const { stdout } = await pgbench(pg, args, 3_600_000);
  return stdout;
}

/** Stops the server (fast shutdown) but keeps its data directory, unlike pg.stop(), e.g. to tar it. */
export async function stopKeepingData(pg: PostgresServer): Promise<void> {
  await runAsPostgres(join(pg.bindir, 'pg_ctl'), ['-D', pg.dataDir, '-m', 'fast', '-w', '-t', '120', 'stop'], { timeoutMs: 180_000 });
}

/** Sum of pg_database_size over all databases, in bytes. */
export async function databaseSizeBytes(pg: PostgresServer): Promise<number> {
  const [row] = await pg.query<{ bytes: string }>('SELECT sum(pg_database_size(datname))::text AS bytes FROM pg_database');
  return Number(row!.bytes);
}

/**
 * A Lifeboat config around `pg` with the product's defaults (zstd 3, 256 MiB parts, local key, fs repository),
 * except for `wal` overrides; the repository folder is created.
 */
export function createBenchFixture(pg: PostgresServer, wal: Record<string, unknown> = {}): LifeboatFixture {
  const fixture = createLifeboatFixture(pg, { cluster: { wal, backup: {} } });
  mkdirSync(join(fixture.dir, 'repo'), { recursive: true });
  return fixture;
}

/** Env for client programs (pg_basebackup) logging in as the `lifeboat` role. */
export function lifeboatEnv(pg: PostgresServer): NodeJS.ProcessEnv {
  return { ...process.env, PGPASSWORD: pg.lifeboat.password };
}
