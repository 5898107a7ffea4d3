// `restore --start`: starts PostgreSQL on the restored directory as its owner, waits until recovery reaches the
// target (promoted, paused or shut down, as asked), and reports the point it reached. A recovery that stops with
// an error (e.g. a WAL fetch that failed hard) is reported with the server's own last log lines.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { LifeboatError } from '../errors/index.js';
import { findPgTool } from '../postgres/index.js';
import type { TargetAction } from './restore-target.js';
import type { OsOwner } from './target-dir.js';

const run = promisify(execFile);

export interface StartOptions {
  targetDir: string;
  owner: OsOwner;
  port: number;
  /** Folder for the socket and the server log (the restore's work folder). */
  workDir: string;
  action: TargetAction | 'end-of-wal';
  bindir?: string;
  timeoutMs: number;
  signal: AbortSignal;
}

export interface ReachedPoint {
  /** Last replayed LSN. */
  lsn?: string;
  /** Commit time of the last replayed transaction. */
  lastCommitTime?: string;
  state: 'promoted' | 'paused' | 'shut down';
  replayMs: number;
}

function asOwner(owner: OsOwner, command: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', owner.name, '--', command, ...args]] : [command, args];
}

function logTail(path: string): string {
  try {
    return readFileSync(path, 'utf8').split('\n').filter(Boolean).slice(-8).join('\n');
  } catch {
    return '(no server log)';
  }
}

async function query(options: StartOptions, sql: string): Promise<string | undefined> {
  const psql = findPgTool('psql', options.bindir);
  const [command, args] = asOwner(options.owner, psql, ['-X', '-A', '-t', '-h', options.workDir, '-p', String(options.port), '-d', 'postgres', '-c', sql]);
  try {
    const { stdout } = await run(command, args, { timeout: 10_000, env: { ...process.env, PGUSER: options.owner.name, PGCONNECT_TIMEOUT: '5' } });
    return stdout.trim();
  } catch {
    return undefined;
  }
}

function postmasterRunning(targetDir: string): boolean {
  const pidFile = `${targetDir}/postmaster.pid`;
  if (!existsSync(pidFile)) return false;
  try {
    process.kill(Number(readFileSync(pidFile, 'utf8').split('\n')[0]), 0);
    return true;
  } catch {
    return false;
  }
}

export async function startRestoredServer(options: StartOptions): Promise<ReachedPoint> {
  const logFile = `${options.workDir}/postgres.log`;
  const pgCtl = findPgTool('pg_ctl', options.bindir);
  const started = Date.now();
  const [command, args] = asOwner(options.owner, pgCtl, ['-D', options.targetDir, '-l', logFile, '-o', `-p ${options.port} -k ${options.workDir} -c listen_addresses=127.0.0.1`, 'start']);
  try {
    await run(command, args, { timeout: 60_000 });
  } catch (error) {
    throw new LifeboatError('postgresTool', `PostgreSQL did not start on the restored directory: ${logTail(logFile)}`, { hint: `the server log is ${logFile}`, cause: error });
  }
  const deadline = Date.now() + options.timeoutMs;
  let lsn: string | undefined;
  let lastCommitTime: string | undefined;
  while (Date.now() < deadline) {
    options.signal.throwIfAborted();
    if (!postmasterRunning(options.targetDir)) {
      if (options.action === 'shutdown' && /database system is shut down/.test(logTail(logFile))) {
        return { ...(lsn ? { lsn } : {}), ...(lastCommitTime ? { lastCommitTime } : {}), state: 'shut down', replayMs: Date.now() - started };
      }
      throw new LifeboatError('postgresTool', `recovery stopped with an error:\n${logTail(logFile)}`, {
        hint: `nothing was promoted; fix the cause (the log is ${logFile}) and start the server again to resume recovery`,
      });
    }
    const row = await query(options, `select pg_is_in_recovery(), coalesce(pg_last_wal_replay_lsn()::text, ''), coalesce(pg_last_xact_replay_timestamp()::text, ''), case when pg_is_in_recovery() then pg_get_wal_replay_pause_state() else 'not paused' end`);
    if (row) {
      const [inRecovery, replayLsn, commitTime, pause] = row.split('|');
      if (replayLsn) lsn = replayLsn;
      if (commitTime) lastCommitTime = commitTime;
      if (inRecovery === 'f') return { ...(lsn ? { lsn } : {}), ...(lastCommitTime ? { lastCommitTime } : {}), state: 'promoted', replayMs: Date.now() - started };
      if (pause === 'paused' && options.action === 'pause') return { ...(lsn ? { lsn } : {}), ...(lastCommitTime ? { lastCommitTime } : {}), state: 'paused', replayMs: Date.now() - started };
    }
    await sleep(250);
  }
  throw new LifeboatError('aborted', `recovery did not reach the target within ${Math.round(options.timeoutMs / 1000)} s`, { hint: `the server keeps recovering; watch ${logFile}` });
}
