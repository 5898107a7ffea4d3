// One timed run of one operation by one contender in the vs-pgbackrest case: a full backup, a restore (latest
// or to a time) until the restored server is promoted and answers, or WAL archiving under pgbench load. Each run
// samples the peak RSS of every process the contender starts (bench/measure/sample-process-peaks.ts).
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../tests/harness/free-port.js';
import type { PostgresServer } from '../../tests/harness/postgres.js';
import { postgresOsUser } from '../../tests/harness/run-as-postgres.js';
import { startProcessSampler, type RolePeak } from '../measure/sample-process-peaks.js';
import { lastArchivedBySegmentCommand, measureArchiveLag, waitArchived, currentLsn, type LagRun } from './archive-lag.js';
import type { LifeboatCommands } from './lifeboat-commands.js';
import { newestBackupStoredBytes, type Pgbackrest, type PgbackrestMode } from './pgbackrest.js';
import { countAccounts, discardRestored, startUntilPromoted, type RestoredServer } from './restored-server.js';

/** Who runs the operation: Lifeboat, or pgBackRest with its default (synchronous) or asynchronous archive-get/push. */
export type Contender = 'lifeboat' | 'pgbackrest' | 'pgbackrest-async';

export const CONTENDER_LABELS: Readonly<Record<Contender, string>> = {
  lifeboat: 'Lifeboat',
  pgbackrest: 'pgBackRest',
  'pgbackrest-async': 'pgBackRest archive-async=y',
};

export interface Versus {
  pg: PostgresServer;
  lifeboat: LifeboatCommands;
  pgbackrest: Pgbackrest;
  /** Scratch folder of the case: restores go below it. */
  dir: string;
  segmentSizeBytes: number;
  /** Points the server's archive_command at pgBackRest (`mode`), or pauses it ('': WAL is kept until it is back). */
  setArchiveCommand(mode: PgbackrestMode | 'paused'): Promise<void>;
}

export interface TimedRun {
  seconds: number;
  peaks: RolePeak[];
}

export interface BackupRun extends TimedRun {
  storedBytes: number;
}

export interface RestoreRun extends TimedRun {
  /** Fetching the backup's files (Lifeboat: the base; pgBackRest: `pgbackrest restore`). */
  filesSeconds: number;
  /** From the server's start until it was promoted. */
  replaySeconds: number;
  accounts: number;
  /** How the restore went, in words (Lifeboat: its phases and how restore_command served the WAL). */
  detail?: string;
}

/** `time`: ISO 8601 in UTC with a Z, e.g. 2026-12-04T21:32:17.721081Z. */
export type RestoreTarget = { kind: 'latest' } | { kind: 'time'; time: string };

const modeOf = (contender: Contender): PgbackrestMode => (contender === 'pgbackrest-async' ? 'async' : 'default');

export async function runBackup(v: Versus, contender: Contender): Promise<BackupRun> {
  const sampler = startProcessSampler([]);
  const started = performance.now();
  try {
    if (contender === 'lifeboat') {
      const result = await v.lifeboat.run(['backup', 'full', '--json'], { onSpawn: (pid) => sampler.addRoot(pid) });
      const seconds = (performance.now() - started) / 1000;
      const manifest = JSON.parse(result.stdout) as { parts: { storedSizeBytes: number }[] };
      return { seconds, storedBytes: manifest.parts.reduce((sum, part) => sum + part.storedSizeBytes, 0), peaks: sampler.stop() };
    }
    await v.pgbackrest.run(modeOf(contender), ['backup', '--type=full'], { onSpawn: (pid) => sampler.addRoot(pid) });
    const seconds = (performance.now() - started) / 1000;
    return { seconds, storedBytes: await newestBackupStoredBytes(v.pgbackrest), peaks: sampler.stop() };
  } finally {
    sampler.stop();
  }
}

/** The restore_command of a Lifeboat restore runs as the postgres OS user: it must read the repository root wrote. */
function openRepositoryToPostgres(v: Versus): void {
  execFileSync('chmod', ['go+x', v.lifeboat.fixture.dir]);
  execFileSync('chmod', ['-R', 'go+rX', join(v.lifeboat.fixture.dir, 'repo')]);
}

export async function runRestore(v: Versus, contender: Contender, target: RestoreTarget, index: number): Promise<RestoreRun> {
  const folder = join(v.dir, `restore-${index}-${contender}`);
  mkdirSync(folder, { mode: 0o755 });
  const user = postgresOsUser();
  const dataDir = join(folder, 'data');
  const port = await freePort();
  const server: RestoredServer = { bindir: v.pg.bindir, dataDir, port, socketDir: contender === 'lifeboat' ? `${dataDir}.lifeboat-restore` : folder };
  if (contender === 'lifeboat') openRepositoryToPostgres(v);
  else if (user !== undefined) chownSync(folder, user.uid, user.gid);
  // The folder is unique to this run: every process whose command line names it is this restore's.
  const sampler = startProcessSampler([folder]);
  const started = performance.now();
  try {
    let filesSeconds: number;
    let replaySeconds: number;
    let detail: string | undefined;
    if (contender === 'lifeboat') {
      const targetArgs = target.kind === 'latest' ? ['--latest'] : ['--to-time', target.time];
      const result = await v.lifeboat.run(['restore', ...targetArgs, '--start', '--target-dir', dataDir, '--port', String(port), '--json'], { onSpawn: (pid) => sampler.addRoot(pid) });
      const report = JSON.parse(result.stdout) as { phases: Record<string, number | undefined>; walServed?: Record<string, unknown> };
      filesSeconds = (report.phases.fetchBaseMs ?? Number.NaN) / 1000;
      replaySeconds = (report.phases.replayMs ?? Number.NaN) / 1000;
      detail = `phases ${JSON.stringify(report.phases)}, wal served ${JSON.stringify(report.walServed ?? {})}`;
    } else {
      // The same instant in the form pgBackRest wants for choosing the backup: "YYYY-MM-DD HH:MM:SS.ffffff+00".
      const time = target.kind === 'time' ? target.time.replace('T', ' ').replace(/Z$/, '+00') : '';
      const targetArgs = target.kind === 'latest' ? [] : ['--type=time', `--target=${time}`, '--target-action=promote'];
      // archive-mode=off: the restored server must not archive into the repository it came from.
      await v.pgbackrest.run(modeOf(contender), ['restore', `--pg1-path=${dataDir}`, '--archive-mode=off', ...targetArgs], { onSpawn: (pid) => sampler.addRoot(pid) });
      filesSeconds = (performance.now() - started) / 1000;
      await startUntilPromoted(server, join(folder, 'postgres.log'), 3_600_000);
      replaySeconds = (performance.now() - started) / 1000 - filesSeconds;
    }
    const accounts = await countAccounts(server);
    return { seconds: (performance.now() - started) / 1000, filesSeconds, replaySeconds, accounts, peaks: sampler.stop(), ...(detail === undefined ? {} : { detail }) };
  } finally {
    sampler.stop();
    await discardRestored(server, folder);
  }
}

/** Lag of one contender's archiving alone under `pgbenchArgs`; the other archivers are paused meanwhile. */
export async function runArchiveLag(v: Versus, contender: Contender, pgbenchArgs: readonly string[]): Promise<LagRun & { peaks: RolePeak[] }> {
  const segmentSizeBytes = v.segmentSizeBytes;
  const drainTimeoutMs = 300_000;
  const sampler = startProcessSampler(contender === 'lifeboat' ? [] : [v.pgbackrest.dir]);
  try {
    let archived: () => Promise<string | undefined>;
    if (contender === 'lifeboat') {
      await v.setArchiveCommand('paused');
      const archiver = await v.lifeboat.startArchiver();
      if (archiver.child.pid !== undefined) sampler.addRoot(archiver.child.pid);
      archived = () => Promise.resolve(v.lifeboat.lastArchivedSegment());
    } else {
      await v.lifeboat.stopArchiver();
      await v.setArchiveCommand(modeOf(contender));
      archived = () => lastArchivedBySegmentCommand(v.pg);
    }
    // Caught up before the load starts (the other archiver's turn left a backlog), from a checkpoint as in
    // production: the load then writes full-page images too.
    await v.pg.query('CHECKPOINT');
    await v.pg.query('SELECT pg_switch_wal()');
    if (!(await waitArchived(archived, await currentLsn(v.pg), segmentSizeBytes, drainTimeoutMs))) throw new Error(`${CONTENDER_LABELS[contender]} did not catch up with the WAL within ${drainTimeoutMs / 1000} s`);
    const lag = await measureArchiveLag(v.pg, archived, { pgbenchArgs, segmentSizeBytes, drainTimeoutMs });
    return { ...lag, peaks: sampler.stop() };
  } finally {
    sampler.stop();
  }
}
