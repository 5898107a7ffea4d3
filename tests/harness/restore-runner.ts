// Runs Lifeboat restores for integration tests: each into its own target folder and on its own free port,
// reads back what the restored server holds (pgbench balances, history row ids), and stops every server it
// started (also when the test process dies). Restored servers keep the source's roles and pg_hba.conf.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RuntimeConfig } from '../../src/config/index.js';
import type { KeyProvider } from '../../src/crypto/index.js';
import type { Logger } from '../../src/log/index.js';
import { parseRestoreTarget, type RestoreTargetOptions } from '../../src/restore/restore-target.js';
import { runRestore, type RestoreResult } from '../../src/restore/run-restore.js';
import type { Storage } from '../../src/storage/index.js';
import { registerExitCleanup } from './exit-cleanup.js';
import { freePort } from './free-port.js';
import type { PostgresCredentials } from './postgres.js';
import { queryPostgres, type PostgresRow } from './postgres-query.js';
import { isProcessAlive, killProcessTreeSync, waitForProcessesGone } from './process-tree.js';
import { runAsPostgres } from './run-as-postgres.js';

export interface RestoreRunnerOptions {
  config: RuntimeConfig;
  storage: Storage;
  keys: KeyProvider;
  log: Logger;
  /** Folder the target folders are made in (must be reachable by the postgres OS user). */
  baseDir: string;
  /** Login on the restored servers (the source's superuser). */
  superuser: PostgresCredentials;
  bindir: string;
}

export interface RestoreRequest extends RestoreTargetOptions {
  /** Target folder name under baseDir. */
  name: string;
  start?: boolean;
  dryRun?: boolean;
  force?: boolean;
  timeline?: 'latest' | number;
  /** Overrides the folder under baseDir. */
  targetDir?: string;
  /** Port the restored server is configured for (and started on); default a free one. */
  port?: number;
  onProgress?: (phase: 'base' | 'wal', doneBytes: number, totalBytes: number) => void;
}

export interface RestoredCluster {
  result: RestoreResult;
  targetDir: string;
  port: number;
  /** The restored server's log (in the restore's work folder). */
  logFile: string;
}

/** What pgbench leaves in a database: the four sums its balance invariant equates. */
export interface PgbenchBalances {
  accounts: string;
  branches: string;
  tellers: string;
  history: string;
}

export interface RestoreRunner {
  restore(request: RestoreRequest): Promise<RestoredCluster>;
  /** restore(request), then `check` the restored cluster; the server is stopped afterwards, also when `check` throws. */
  withRestored<T>(request: RestoreRequest, check: (restored: RestoredCluster) => Promise<T>): Promise<T>;
  /** Runs `sql` as the source's superuser on a restored server (any server on 127.0.0.1:port). */
  query<R extends PostgresRow = PostgresRow>(restored: { port: number }, sql: string): Promise<R[]>;
  /** pgbench_history ids present, ascending. */
  historyIds(restored: RestoredCluster): Promise<number[]>;
  balances(restored: RestoredCluster): Promise<PgbenchBalances>;
  /** Stops the server in `targetDir` (started elsewhere, e.g. by the CLI) in stopAll() and on exit. */
  track(targetDir: string): void;
  /** Immediate shutdown of a restored server (no-op when it is not running). */
  stop(restored: RestoredCluster | string): Promise<void>;
  stopAll(): Promise<void>;
}

export function readPostmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The `port` a restore wrote into the restored directory's postgresql.auto.conf (the last one, as PostgreSQL reads it). */
export function readRestoredPort(dataDir: string): number | undefined {
  const lines = readFileSync(join(dataDir, 'postgresql.auto.conf'), 'utf8').split('\n');
  const port = lines.map((line) => /^\s*port\s*=\s*'?(\d+)'?/.exec(line)?.[1]).filter((value) => value !== undefined).at(-1);
  return port === undefined ? undefined : Number(port);
}

/** True while a live (non-zombie) postmaster serves `dataDir`. */
export function isPostmasterRunning(dataDir: string): boolean {
  const pid = readPostmasterPid(dataDir);
  return pid !== undefined && isProcessAlive(pid);
}

/** pgbench_history ids, ascending (as text: bigint; ordered by the column, not by its text). */
export const HISTORY_IDS_SQL = 'select id::text as id from pgbench_history order by pgbench_history.id';

export function balancesSql(): string {
  return `select (select sum(abalance) from pgbench_accounts)::text as accounts, (select sum(bbalance) from pgbench_branches)::text as branches,
    (select sum(tbalance) from pgbench_tellers)::text as tellers, (select coalesce(sum(delta), 0) from pgbench_history)::text as history`;
}

export function createRestoreRunner(options: RestoreRunnerOptions): RestoreRunner {
  const started = new Map<string, () => void>();

  /** Last-chance cleanup: a failed test must not leave a restored postmaster behind. */
  const track = (targetDir: string): void => {
    if (started.has(targetDir)) return;
    started.set(
      targetDir,
      registerExitCleanup(() => {
        const pid = readPostmasterPid(targetDir);
        if (pid !== undefined) killProcessTreeSync(pid);
      }),
    );
  };

  const stop = async (restored: RestoredCluster | string): Promise<void> => {
    const targetDir = typeof restored === 'string' ? restored : restored.targetDir;
    started.get(targetDir)?.();
    started.delete(targetDir);
    const pid = readPostmasterPid(targetDir);
    if (pid === undefined || !isProcessAlive(pid)) return;
    await runAsPostgres(join(options.bindir, 'pg_ctl'), ['-D', targetDir, '-m', 'immediate', '-w', '-t', '30', 'stop']).catch(() => waitForProcessesGone(killProcessTreeSync(pid)));
  };

  const query = <R extends PostgresRow = PostgresRow>(restored: { port: number }, sql: string): Promise<R[]> =>
    queryPostgres<R>({ host: '127.0.0.1', port: restored.port, database: 'postgres', ...options.superuser }, sql);

  const restore = async (request: RestoreRequest): Promise<RestoredCluster> => {
    const targetDir = request.targetDir ?? join(options.baseDir, request.name);
    const port = request.port ?? (await freePort());
    const { target, action } = parseRestoreTarget(request);
    if (request.start) track(targetDir);
    const result = await runRestore({
      config: options.config,
      cluster: options.config.clusters[0]!.name,
      storage: options.storage,
      keys: options.keys,
      log: options.log,
      signal: AbortSignal.timeout(180_000),
      targetDir,
      target,
      action,
      timeline: request.timeline ?? 'latest',
      force: request.force ?? false,
      dryRun: request.dryRun ?? false,
      port,
      ...(request.start ? { start: { timeoutMs: 120_000 } } : {}),
      ...(request.onProgress ? { onProgress: request.onProgress } : {}),
    });
    return { result, targetDir, port, logFile: join(result.workDir, 'postgres.log') };
  };

  return {
    restore,
    async withRestored(request, check) {
      const restored = await restore(request);
      try {
        return await check(restored);
      } finally {
        await stop(restored);
      }
    },
    track,
    query,
    async historyIds(restored) {
      const rows = await query<{ id: string }>(restored, HISTORY_IDS_SQL);
      return rows.map((row) => Number(row.id));
    },
    async balances(restored) {
      return (await query<PgbenchBalances & PostgresRow>(restored, balancesSql()))[0]!;
    },
    stop,
    async stopAll() {
      for (const targetDir of [...started.keys()]) await stop(targetDir);
    },
  };
}
