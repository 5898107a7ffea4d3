// Child-side WAL archiving under load: runWalArchive in this process while pgbench writes, sampling the server's
// WAL position and every archiver state; then how long the archive takes to cover the WAL written under load.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runProcess } from '../../tests/harness/run-process.js';
import { queryPostgres } from '../../tests/harness/postgres-query.js';
import { readStoredWal } from '../../tests/harness/wal-archiver-runner.js';
import { loadConfig } from '../../src/config/index.js';
import { parseLsn, type Lsn } from '../../src/postgres/index.js';
import { openRepository } from '../../src/repository/open-repository.js';
import { createCapturingLogger } from './capture-log.js';
import { startArchiver, type TimedState } from './start-archiver.js';

export interface WalArchiveParams {
  configPath: string;
  env: Record<string, string>;
  /** Superuser login for pgbench and WAL position queries. */
  superuser: { host: string; port: number; user: string; password: string };
  pgbenchPath: string;
  /** pgbench arguments, e.g. ['-c', '4', '-T', '60']. */
  pgbenchArgs: string[];
  /** Give up waiting for the archive to cover the loaded WAL after this long. */
  drainTimeoutSeconds: number;
}

export interface WalArchiveResult {
  loadSeconds: number;
  pgbenchOutput: string;
  /** CPU of the pgbench client, which the child ran: subtract it from the child's waited-for processes' CPU. */
  pgbenchCpuSeconds: number;
  /** pg_current_wal_lsn() after the load minus before, in bytes. */
  walProducedBytes: number;
  /** Of the WAL written under load, how much the archive held when the load stopped (lastArchivedLsn - start LSN). */
  archivedOfLoadBytes: number;
  segmentsArchivedDuringLoad: number;
  maxLagBytes: number;
  maxLagSeconds: number;
  lagAtLoadEnd: { lagBytes: number; lagSeconds: number };
  /** From the end of the load until lastArchivedLsn reached the WAL position at the end of the load; null on timeout. */
  catchUpSeconds: number | null;
  lagAfterCatchUp: { lagBytes: number; lagSeconds: number };
  /** Complete segments stored in the repository at the end, and partial uploads made. */
  segmentsStored: number;
  partialsUploaded: number;
  states: number;
}

function archivedLsnOf(timed: TimedState | undefined): Lsn {
  const text = timed?.state.lastArchivedLsn;
  return text === undefined ? (0n as Lsn) : parseLsn(text);
}

export async function runWalArchiveTask(params: WalArchiveParams): Promise<WalArchiveResult> {
  const config = loadConfig(params.configPath, { ...process.env, ...params.env });
  const { storage, keys, close } = await openRepository(config, 'write');
  const { log } = createCapturingLogger();
  const currentLsn = async (): Promise<Lsn> => {
    const [row] = await queryPostgres<{ lsn: string }>({ ...params.superuser, database: 'postgres' }, 'SELECT pg_current_wal_lsn()::text AS lsn');
    return parseLsn(row!.lsn);
  };
  const archiver = await startArchiver(config, storage, keys, log);
  try {
    // 1. Let the archiver settle (receiver streaming) before the load starts.
    for (let i = 0; i < 3; i++) await archiver.nextState();
    // A checkpoint first, as production sees one every few minutes: the load then writes full-page images too.
    await queryPostgres({ ...params.superuser, database: 'postgres' }, 'CHECKPOINT');
    const atStart = archiver.states.at(-1)!;
    const startLsn = await currentLsn();
    const startedMs = Date.now();

    // 2. The load; states keep arriving meanwhile. GNU time tells pgbench's own CPU apart from pg_receivewal's.
    const timesPath = join(await mkdtemp(join(tmpdir(), 'lifeboat-bench-pgbench-')), 'time.txt');
    const { stdout } = await runProcess('/usr/bin/time', ['-f', '%U %S', '-o', timesPath, params.pgbenchPath, ...params.pgbenchArgs, 'postgres'], {
      env: { ...process.env, PGHOST: params.superuser.host, PGPORT: String(params.superuser.port), PGUSER: params.superuser.user, PGPASSWORD: params.superuser.password },
      timeoutMs: 3_600_000,
    });
    const [user, system] = (await readFile(timesPath, 'utf8')).trim().split(' ').map(Number);
    await rm(dirname(timesPath), { recursive: true, force: true });
    const endLsn = await currentLsn();
    const endedMs = Date.now();
    const atEnd = await archiver.nextState();
    const duringLoad = archiver.states.filter((timed) => timed.atMs >= startedMs && timed.atMs <= atEnd.atMs);

    // 3. Time until the archive holds everything written under load (a partial upload can close the tail).
    let caughtUp: TimedState | undefined;
    const deadline = endedMs + params.drainTimeoutSeconds * 1000;
    for (let timed = atEnd; ; timed = await archiver.nextState()) {
      if (archivedLsnOf(timed) >= endLsn) {
        caughtUp = timed;
        break;
      }
      if (timed.atMs > deadline) break;
    }
    const stored = await readStoredWal(storage, config.clusters[0]!.name);
    const last = archiver.states.at(-1)!;
    return {
      loadSeconds: (endedMs - startedMs) / 1000,
      pgbenchOutput: stdout,
      pgbenchCpuSeconds: user! + system!,
      walProducedBytes: Number(endLsn - startLsn),
      archivedOfLoadBytes: Math.max(0, Number(archivedLsnOf(atEnd) - startLsn)),
      segmentsArchivedDuringLoad: atEnd.state.segmentsArchived - atStart.state.segmentsArchived,
      maxLagBytes: Math.max(...duringLoad.map((timed) => timed.state.lagBytes)),
      maxLagSeconds: Math.max(...duringLoad.map((timed) => timed.state.lagSeconds)),
      lagAtLoadEnd: { lagBytes: atEnd.state.lagBytes, lagSeconds: atEnd.state.lagSeconds },
      catchUpSeconds: caughtUp === undefined ? null : (caughtUp.atMs - endedMs) / 1000,
      lagAfterCatchUp: { lagBytes: (caughtUp ?? last).state.lagBytes, lagSeconds: (caughtUp ?? last).state.lagSeconds },
      segmentsStored: stored.segments.length,
      partialsUploaded: last.state.partialsUploaded,
      states: archiver.states.length,
    };
  } finally {
    await archiver.stop();
    close();
  }
}
