// A source cluster for restore tests: a real PostgreSQL with the Lifeboat fixture, the in-process WAL archiver
// running, pgbench tables (pgbench_history gets an `id` column so restored rows can be matched to the source's)
// and helpers to wait until WAL up to an LSN is in the repository, and to read commit times from the source.
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { runFullBackup } from '../../src/backup/full/run-full-backup.js';
import type { RuntimeCluster } from '../../src/config/index.js';
import { createLogger } from '../../src/log/index.js';
import { parseLsn } from '../../src/postgres/index.js';
import type { FullBackupManifest } from '../../src/repository/backup-manifest.js';
import { openRepository, type Repository } from '../../src/repository/open-repository.js';
import { createLifeboatFixture, pgbench, type FixtureOptions, type LifeboatFixture } from './lifeboat-fixture.js';
import { createRestoreRunner, HISTORY_IDS_SQL, type RestoreRunner } from './restore-runner.js';
import { startPostgres, type PostgresServer } from './postgres.js';
import { runProcess } from './run-process.js';
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
  /**
   * Lets the postgres OS user read the repository, as restore_command must: the fs driver writes objects 0600
   * for the user lifeboat runs as (root here; in production lifeboat runs as the PostgreSQL OS user).
   */
  grantRepositoryRead(): Promise<void>;
  /**
   * Waits until all WAL so far is in the repository, stops the archiver and grants the restore read access;
   * returns the pgbench_history ids the source then holds, which a --latest restore must hold exactly.
   */
  archiveAllAndStop(): Promise<number[]>;
  /**
   * A restore runner for this source's repository and server, restoring into `baseDir` (default `<fixture>/restores`).
   * stop() stops every server it restored.
   */
  restoreRunner(baseDir?: string): RestoreRunner;
  /** Stops the restored servers of every restoreRunner(), then the archiver and PostgreSQL; removes the fixture. */
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

/** The fixture's fs repository folder. */
export function repositoryPath(fixture: LifeboatFixture): string {
  const { repository } = fixture.config;
  if (repository.driver !== 'fs') throw new Error('restore tests use the fixture\'s fs repository');
  return repository.path;
}

export async function startRestoreSource(options: RestoreSourceOptions = {}): Promise<RestoreSource> {
  const pg = await startPostgres();
  const fixture = createLifeboatFixture(pg, options.fixture);
  const log = createLogger({ level: process.env.LIFEBOAT_TEST_LOG_LEVEL ?? 'warn' });
  const repository = await openRepository(fixture.config, 'write');
  // The restored server and its restore_command run as the postgres OS user: it must reach the fixture's
  // folders and read the repository, as an operator grants it on a real host. The key file stays 0600.
  chmodSync(fixture.dir, 0o711);
  if (fixture.config.repository.driver === 'fs') chmodSync(repositoryPath(fixture), 0o755);
  const cluster = fixture.config.clusters[0]!;
  await pgbench(pg, ['-i', '-s', String(options.scale ?? 1), '-q']);
  await pg.query('alter table pgbench_history add column id bigserial primary key');
  const runners: RestoreRunner[] = [];
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
    async grantRepositoryRead() {
      // An S3 repository is read with the credentials in the restore's fetch config instead.
      if (fixture.config.repository.driver === 'fs') await runProcess('chmod', ['-R', 'go+rX', repositoryPath(fixture)]);
    },
    async archiveAllAndStop() {
      await source.waitArchived(await source.currentLsn());
      await source.stopArchiver();
      await source.grantRepositoryRead();
      return (await pg.query<{ id: string }>(HISTORY_IDS_SQL)).map((row) => Number(row.id));
    },
    restoreRunner(baseDir = join(fixture.dir, 'restores')) {
      const runner = createRestoreRunner({ config: fixture.config, storage: repository.storage, keys: repository.keys, log, baseDir, superuser: pg.superuser, bindir: pg.bindir });
      runners.push(runner);
      return runner;
    },
    async stop() {
      // Restored servers first: they may still read the repository through restore_command.
      for (const runner of runners) await runner.stopAll();
      await source.stopArchiver().catch(() => undefined);
      repository.close();
      await pg.stop();
      fixture.cleanup();
    },
  };
  // The archiver's start-up frees its slot by terminating whichever backend holds it, and a backup creating
  // the same slot holds it for a moment: let the archiver settle before anything else touches the slots.
  await waitFor('the WAL archiver to stream', () => source.archiver?.latest()?.receiverRunning === true, { timeoutMs: 60_000 });
  return source;
}
