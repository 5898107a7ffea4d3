// A source cluster for restore tests: a real PostgreSQL with the Lifeboat fixture, the in-process WAL archiver
// running, pgbench tables (pgbench_history gets an `id` column so restored rows can be matched to the source's)
// and helpers to wait until WAL up to an LSN is in the repository, and to read commit times from the source.
import { chmodSync } from 'node:fs';
import type { Logger } from 'pino';
import { runFullBackup } from '../../src/backup/full/run-full-backup.js';
import type { RuntimeCluster } from '../../src/config/index.js';
import { createLogger } from '../../src/log/index.js';
import { parseLsn } from '../../src/postgres/index.js';
import type { FullBackupManifest } from '../../src/repository/backup-manifest.js';
import { openRepository, type Repository } from '../../src/repository/open-repository.js';
import { createLifeboatFixture, pgbench, type FixtureOptions, type LifeboatFixture } from './lifeboat-fixture.js';
import { startPostgres, type PostgresServer } from './postgres.js';
import { waitFor } from './wait-for.js';
import { startInProcessArchiver, type InProcessArchiver } from './wal-archiver-runner.js';

export interface RestoreSource {
  pg: PostgresServer;
  fixture: LifeboatFixture;
  repository: Repository;
  cluster: RuntimeCluster;
  log: Logger;
  /** The running archiver; undefined after stopArchiver(). */
  archiver: InProcessArchiver | undefined;
  fullBackup(): Promise<FullBackupManifest>;
  /** The source's current WAL position (pg_current_wal_lsn). */
  currentLsn(): Promise<string>;
  /** Resolves once the archiver reports WAL up to `lsn` (default: the current position) durably stored. */
  waitArchived(lsn?: string, timeoutMs?: number): Promise<void>;
  stopArchiver(): Promise<void>;
  stop(): Promise<void>;
}

export interface RestoreSourceOptions {
  /** pgbench -i scale; default 1. */
  scale?: number;
  fixture?: FixtureOptions;
}

/** A commit on the source: the pgbench_history row id and its commit time, exactly (microseconds). */
export interface SourceCommit {
  id: number;
  /** Microseconds since the Unix epoch. */
  micros: bigint;
  /** ISO 8601 in UTC with microseconds, e.g. 2026-11-29T14:02:59.123456Z. */
  iso: string;
}

/** Formats microseconds since the epoch as ISO 8601 with all six fraction digits, in UTC or at a fixed offset. */
export function formatMicros(micros: bigint, offsetMinutes = 0): string {
  const local = micros + BigInt(offsetMinutes) * 60_000_000n;
  const zone = offsetMinutes === 0 ? 'Z' : `${offsetMinutes < 0 ? '-' : '+'}${String(Math.floor(Math.abs(offsetMinutes) / 60)).padStart(2, '0')}:${String(Math.abs(offsetMinutes) % 60).padStart(2, '0')}`;
  return `${new Date(Number(local / 1000n)).toISOString().slice(0, 19)}.${(local % 1_000_000n).toString().padStart(6, '0')}${zone}`;
}

/** Every pgbench_history row of the source with its commit time, oldest commit first. */
export async function readSourceCommits(pg: PostgresServer): Promise<SourceCommit[]> {
  const rows = await pg.query<{ id: string; micros: string }>(
    `select id::text, (extract(epoch from pg_xact_commit_timestamp(xmin)) * 1000000)::bigint::text as micros from pgbench_history order by 2, 1`,
  );
  return rows.map((row) => ({ id: Number(row.id), micros: BigInt(row.micros), iso: formatMicros(BigInt(row.micros)) }));
}

export async function startRestoreSource(options: RestoreSourceOptions = {}): Promise<RestoreSource> {
  const pg = await startPostgres();
  const fixture = createLifeboatFixture(pg, options.fixture);
  // The restored server (and its restore_command) run as the postgres OS user: it must reach the fixture's
  // folders, as a real repository folder is readable by the PostgreSQL OS user. The key file stays 0600.
  chmodSync(fixture.dir, 0o711);
  const log = createLogger({ level: process.env.LIFEBOAT_TEST_LOG_LEVEL ?? 'warn' });
  const repository = await openRepository(fixture.config, 'write');
  const cluster = fixture.config.clusters[0]!;
  await pgbench(pg, ['-i', '-s', String(options.scale ?? 1), '-q']);
  await pg.query('alter table pgbench_history add column id bigserial primary key');
  const source: RestoreSource = {
    pg,
    fixture,
    repository,
    cluster,
    log,
    archiver: startInProcessArchiver({ fixture, storage: repository.storage, keys: repository.keys, log }),
    fullBackup: () =>
      runFullBackup({ config: fixture.config, cluster, storage: repository.storage, keys: repository.keys, log, signal: AbortSignal.timeout(180_000), lifeboatVersion: 'test' }),
    currentLsn: async () => (await pg.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn'))[0]!.lsn,
    async waitArchived(lsn, timeoutMs = 60_000) {
      const wanted = parseLsn(lsn ?? (await source.currentLsn()));
      await waitFor(
        `WAL up to ${lsn ?? 'the current position'} in the repository`,
        () => {
          const archived = source.archiver?.latest()?.lastArchivedLsn;
          return archived !== undefined && parseLsn(archived) >= wanted;
        },
        { timeoutMs, intervalMs: 250 },
      );
    },
    async stopArchiver() {
      const archiver = source.archiver;
      source.archiver = undefined;
      await archiver?.stop();
    },
    async stop() {
      await source.stopArchiver().catch(() => undefined);
      repository.close();
      await pg.stop();
      fixture.cleanup();
    },
  };
  return source;
}
