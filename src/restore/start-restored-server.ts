// `restore --start`: starts PostgreSQL on the restored directory as its owner, waits until recovery reaches the
// target (promoted, paused or shut down, as asked), and reports the point it reached. A recovery that stops with
// an error (e.g. a WAL fetch that failed hard) is reported with the server's own last log lines. Port and socket
// folder come from the restored configuration (write-recovery-config), as for any later start by hand.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { LifeboatError } from '../errors/index.js';
import { findPgTool, parseLsn, formatLsn } from '../postgres/index.js';
import type { TargetAction } from './restore-target.js';
import { resetAfterPromotion, type RecoveryTuningOutcome } from './recovery-tuning.js';
import { postmasterStatus } from './running-postmaster.js';
import type { OsOwner } from './target-dir.js';

const run = promisify(execFile);

export interface StartOptions {
  targetDir: string;
  owner: OsOwner;
  /** The port the restored configuration sets. */
  port: number;
  /** The socket folder the restored configuration sets. */
  socketDir: string;
  /** Folder for the server log (the restore's work folder). */
  workDir: string;
  action: TargetAction | 'end-of-wal';
  /** The timeline recovery follows (the plan's): promotion writes the history file of a newer one. */
  timeline: number;
  bindir?: string;
  timeoutMs: number;
  signal: AbortSignal;
}

export interface ReachedPoint {
  /** Last replayed LSN; once promoted, the end of recovery as the new timeline's history file records it. */
  lsn?: string;
  /** Why recovery ended, in PostgreSQL's words (the history file's reason), once promoted. */
  endReason?: string;
  /** Commit time of the last replayed transaction. */
  lastCommitTime?: string;
  state: 'promoted' | 'paused' | 'shut down';
  replayMs: number;
  /** The recovery-only settings, reset once promoted (recovery-tuning.ts); absent when there were none. */
  recoveryTuning?: RecoveryTuningOutcome;
}

function asOwner(owner: OsOwner, command: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', owner.name, '--', command, ...args]] : [command, args];
}

/** The server log from byte `fromOffset` on: what this start wrote (pg_ctl -l appends). */
function readLog(path: string, fromOffset = 0): string {
  try {
    return readFileSync(path).subarray(fromOffset).toString('utf8');
  } catch {
    return '';
  }
}

function logTail(path: string, fromOffset = 0): string {
  const lines = readLog(path, fromOffset).split('\n').filter(Boolean);
  return lines.length === 0 ? '(no server log)' : lines.slice(-8).join('\n');
}

async function query(options: StartOptions, sql: string): Promise<string | undefined> {
  const psql = findPgTool('psql', options.bindir);
  const [command, args] = asOwner(options.owner, psql, ['-X', '-A', '-t', '-h', options.socketDir, '-p', String(options.port), '-d', 'postgres', '-c', sql]);
  try {
    const { stdout } = await run(command, args, { timeout: 10_000, env: { ...process.env, PGUSER: options.owner.name, PGCONNECT_TIMEOUT: '5' } });
    return stdout.trim();
  } catch {
    return undefined;
  }
}

/** pg_control's state, which the startup process sets to `in production` when recovery has ended. */
async function inProduction(options: StartOptions): Promise<boolean> {
  try {
    const { stdout } = await run(findPgTool('pg_controldata', options.bindir), ['-D', options.targetDir], { timeout: 10_000, env: { ...process.env, LC_ALL: 'C' } });
    return /^Database cluster state:\s+in production$/m.test(stdout);
  } catch {
    return false;
  }
}

/** The timeline history files in `targetDir`'s pg_wal, oldest timeline first. Throws when pg_wal cannot be read. */
function historyFilesIn(targetDir: string): string[] {
  return readdirSync(join(targetDir, 'pg_wal'))
    .filter((name) => /^[0-9A-F]{8}\.history$/.test(name))
    .sort();
}

/**
 * Where recovery ended, from the newest timeline history file in pg_wal: promotion writes it with the switch
 * point (the end of the last record replayed) and the reason, and needs no login to read.
 */
export function readEndOfRecovery(targetDir: string): { lsn: string; reason: string } | undefined {
  try {
    const newest = historyFilesIn(targetDir).at(-1);
    if (newest === undefined) return undefined;
    const last = readFileSync(join(targetDir, 'pg_wal', newest), 'utf8').split('\n').filter((line) => /^\d+\t/.test(line)).at(-1);
    const [, lsn, reason = ''] = last?.split('\t') ?? [];
    return lsn === undefined ? undefined : { lsn: formatLsn(parseLsn(lsn)), reason: reason.trim() };
  } catch {
    return undefined;
  }
}

/**
 * True once pg_wal holds the history file of a timeline newer than `timeline`: promotion writes it. Recovery only
 * restores history files of the timelines it follows, which are not newer. Read without a process or a login.
 */
function promotedPastTimeline(targetDir: string, timeline: number): boolean {
  try {
    return historyFilesIn(targetDir).some((name) => Number.parseInt(name.slice(0, 8), 16) > timeline);
  } catch {
    return false;
  }
}

/** Stops a restored server (fast shutdown), e.g. one that promoted before reaching what the plan needs. */
export async function stopRestoredServer(options: Pick<StartOptions, 'targetDir' | 'owner' | 'bindir'>): Promise<void> {
  const [command, args] = asOwner(options.owner, findPgTool('pg_ctl', options.bindir), ['-D', options.targetDir, '-m', 'fast', '-w', '-t', '60', 'stop']);
  await run(command, args, { timeout: 70_000 });
}

/** How often the postmaster's state is read: from files, without a process start. */
const POLL_MS = 100;

/** How long the postmaster may take to write its pid file after `pg_ctl start` returned. */
const STARTUP_GRACE_MS = 15_000;

export async function startRestoredServer(options: StartOptions): Promise<ReachedPoint> {
  const logFile = `${options.workDir}/postgres.log`;
  const pgCtl = findPgTool('pg_ctl', options.bindir);
  const started = Date.now();
  const logOffset = existsSync(logFile) ? statSync(logFile).size : 0;
  // -W: pg_ctl's own wait gives up after 60 s and cannot tell a shutdown at the target from a failure;
  // the loop below watches the postmaster, the recovery state and the log until the end.
  const [command, args] = asOwner(options.owner, pgCtl, ['-D', options.targetDir, '-l', logFile, '-W', '-o', '-c listen_addresses=127.0.0.1', 'start']);
  try {
    await run(command, args, { timeout: 60_000, signal: options.signal });
  } catch (error) {
    throw new LifeboatError('postgresTool', `PostgreSQL did not start on the restored directory: ${logTail(logFile, logOffset)}`, { hint: `the server log is ${logFile}`, cause: error });
  }
  const deadline = Date.now() + options.timeoutMs;
  let lsn: string | undefined;
  let lastCommitTime: string | undefined;
  let seenRunning = false;
  const reached = (state: ReachedPoint['state']): ReachedPoint => {
    const end = state === 'promoted' ? readEndOfRecovery(options.targetDir) : undefined;
    if (end) lsn = end.lsn;
    return { ...(lsn ? { lsn } : {}), ...(end ? { endReason: end.reason } : {}), ...(lastCommitTime ? { lastCommitTime } : {}), state, replayMs: Date.now() - started };
  };
  // The new primary must run with the configuration it was backed up with: the replay tuning goes at once.
  const promoted = async (): Promise<ReachedPoint> => {
    const point = reached('promoted');
    const recoveryTuning = await resetAfterPromotion({ targetDir: options.targetDir, owner: options.owner, port: options.port, socketDir: options.socketDir, ...(options.bindir ? { bindir: options.bindir } : {}) });
    return recoveryTuning === undefined ? point : { ...point, recoveryTuning };
  };
  while (Date.now() < deadline) {
    options.signal.throwIfAborted();
    const status = postmasterStatus(options.targetDir);
    if (status === undefined) {
      const log = readLog(logFile, logOffset);
      // Not yet started (no pid file so far) looks like stopped: wait, unless the log says it is over.
      if (!seenRunning && Date.now() - started < STARTUP_GRACE_MS && !/database system is shut down|FATAL|PANIC/.test(log)) {
        await sleep(POLL_MS);
        continue;
      }
      // The postmaster logs this when recovery_target_action = shutdown (or pause without hot_standby) stopped
      // it at the target; any other exit (a FATAL in the startup process, e.g. a WAL fetch that failed hard)
      // is a failure.
      if (/shutdown at recovery target/.test(log)) return reached('shut down');
      throw new LifeboatError('postgresTool', `recovery stopped with an error; nothing was promoted:\n${logTail(logFile, logOffset)}`, {
        hint: `fix the cause (the server log is ${logFile}) and start the server again (pg_ctl -D ${options.targetDir} start) to resume recovery`,
      });
    }
    seenRunning = true;
    // Connect only once it accepts connections (`ready`: read-only during recovery with hot_standby, or
    // promoted; `standby` accepts none): earlier attempts fail and each leaves a FATAL line in the server log.
    // Unless it may pause at the target, only once it has promoted, too: a status query every 250 ms cost replay
    // a process start (runuser, psql, a backend) each time, on a host whose cores replay and prefetch share.
    if (status !== 'ready' || (options.action !== 'pause' && !promotedPastTimeline(options.targetDir, options.timeline))) {
      await sleep(POLL_MS);
      continue;
    }
    const row = await query(options, `select pg_is_in_recovery(), coalesce(pg_last_wal_replay_lsn()::text, ''), coalesce(pg_last_xact_replay_timestamp()::text, ''), pg_is_in_recovery() and pg_is_wal_replay_paused()`);
    if (row) {
      const [inRecovery, replayLsn, commitTime, paused] = row.split('|');
      if (replayLsn) lsn = replayLsn;
      if (commitTime) lastCommitTime = commitTime;
      if (inRecovery === 'f') return await promoted();
      if (paused === 't' && options.action === 'pause') return reached('paused');
    } else if (await inProduction(options)) {
      // Out of recovery, though we cannot log in (e.g. no role named like the OS user): pg_control says so.
      return await promoted();
    }
    await sleep(POLL_MS);
  }
  throw new LifeboatError('aborted', `recovery did not reach the target within ${Math.round(options.timeoutMs / 1000)} s`, { hint: `the server keeps recovering; watch ${logFile}` });
}
