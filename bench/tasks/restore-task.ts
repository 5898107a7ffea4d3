// Child-side restore: `restore --latest --start` through runRestore (the CLI's code path) into a fresh target,
// then the time until the restored server answers `select count(*) from pgbench_accounts`. Phases come from
// runRestore itself (fetch base, fetch WAL, start + replay + promote).
import { execFileSync } from 'node:child_process';
import { loadConfig } from '../../src/config/index.js';
import { openRepository } from '../../src/repository/open-repository.js';
import { runRestore } from '../../src/restore/run-restore.js';
import { createCapturingLogger } from './capture-log.js';

export interface RestoreParams {
  configPath: string;
  env: Record<string, string>;
  targetDir: string;
  port: number;
  bindir: string;
}

export interface RestoreTaskResult {
  seconds: number;
  fetchBaseSeconds: number;
  fetchWalSeconds: number;
  replaySeconds: number;
  /** From the start of the restore until the count query answered. */
  toAnswerSeconds: number;
  accounts: number;
  walSegments: number;
  restoredBytes: number;
}

export async function runRestoreTask(params: RestoreParams): Promise<RestoreTaskResult> {
  const config = loadConfig(params.configPath, { ...process.env, ...params.env });
  const { storage, keys, close } = await openRepository(config, 'read');
  const { log } = createCapturingLogger();
  const started = performance.now();
  try {
    const result = await runRestore({
      config,
      cluster: config.clusters[0]!.name,
      storage,
      keys,
      log,
      signal: new AbortController().signal,
      targetDir: params.targetDir,
      target: { kind: 'latest' },
      action: 'promote',
      timeline: 'latest',
      force: false,
      dryRun: false,
      port: params.port,
      start: { timeoutMs: 3_600_000 },
    });
    const seconds = (performance.now() - started) / 1000;
    const owner = result.targetDir.owner.name;
    const psql = (sql: string): string =>
      execFileSync('runuser', ['-u', owner, '--', `${params.bindir}/psql`, '-X', '-A', '-t', '-h', result.workDir, '-p', String(params.port), '-d', 'postgres', '-c', sql], { encoding: 'utf8' }).trim();
    const accounts = Number(psql('select count(*) from pgbench_accounts'));
    const toAnswerSeconds = (performance.now() - started) / 1000;
    execFileSync('runuser', ['-u', owner, '--', `${params.bindir}/pg_ctl`, '-D', params.targetDir, '-m', 'fast', 'stop'], { stdio: 'ignore' });
    return {
      seconds,
      fetchBaseSeconds: (result.phases.fetchBaseMs ?? 0) / 1000,
      fetchWalSeconds: (result.phases.fetchWalMs ?? 0) / 1000,
      replaySeconds: (result.phases.replayMs ?? 0) / 1000,
      toAnswerSeconds,
      accounts,
      walSegments: result.plan.wal.length,
      restoredBytes: result.plan.restoredBytes,
    };
  } finally {
    close();
  }
}
