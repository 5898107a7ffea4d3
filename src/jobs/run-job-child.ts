// Runs one job in a child process (a fork of dist/jobs/job-child-entry.js): its memory is returned when it ends, a
// crash cannot take the daemon down, and the daemon stays small. Aborting the signal asks the child to abort and
// clean up; a child that does not exit within killGraceMs is killed.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LifeboatError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import type { ParentMessage, ResultMessage } from './child-protocol.js';
import type { JobSummary } from './job-kind.js';

const ENTRY = fileURLToPath(new URL('./job-child-entry.js', import.meta.url));

export interface RunJobChildOptions {
  configPath: string;
  kind: string;
  data: unknown;
  jobId: string;
  runKey: string;
  /** No backup of this run can have started before this time. */
  runNotBefore: Date;
  daemonId: string;
  lifeboatVersion: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** Aborting asks the child to abort its run (shutdown timeout, lost lock). */
  signal: AbortSignal;
  /** After an abort, how long the child may take to clean up before SIGKILL. */
  killGraceMs: number;
  /** Told about the child as soon as it exists (the daemon kills its children on a second signal). */
  onSpawn?: (child: ChildProcess) => void;
}

/**
 * A child that died without reporting. Killed by a signal (the OOM killer's SIGKILL, a segfault, V8 out of heap
 * aborting), it is `aborted` and retryable: nothing says the next attempt dies too, and the retry cleans up its
 * leftovers. Exiting with a code but no result is a bug in the child: `internal`, not retried.
 */
function diedWithoutResult(code: number | null, signal: NodeJS.Signals | null): LifeboatError {
  if (signal) {
    const guess = signal === 'SIGKILL' ? ' (out of memory?)' : signal === 'SIGABRT' ? ' (out of heap?)' : '';
    return new LifeboatError('aborted', `job child killed by ${signal}${guess}`, {
      hint: 'the run is retried within its attempts; an out-of-memory kill shows in the kernel log (dmesg, journalctl -k)',
    });
  }
  return new LifeboatError('internal', `the job process exited with code ${code} without a result`, { hint: 'see the job\'s log lines above' });
}

/** The job's summary, or the LifeboatError the child reported (see diedWithoutResult when it reported none). */
export function runJobChild(options: RunJobChildOptions): Promise<JobSummary> {
  return new Promise((resolve, reject) => {
    // Own process group: a Ctrl-C in the daemon's terminal reaches the daemon, which decides; not every job at once.
    const child = fork(ENTRY, [], { detached: true, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: options.env, serialization: 'json' });
    options.onSpawn?.(child);
    let result: ResultMessage | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const send = (message: ParentMessage): void => {
      if (child.connected) child.send(message, () => undefined);
    };
    const onAbort = (): void => {
      const reason = options.signal.reason instanceof Error ? options.signal.reason.message : 'aborted';
      options.log.warn({ pid: child.pid, reason }, 'aborting the job process');
      send({ type: 'abort', reason });
      killTimer = setTimeout(() => child.kill('SIGKILL'), options.killGraceMs);
    };
    child.on('message', (message: ResultMessage) => {
      if (message.type === 'result') result = message;
    });
    child.once('spawn', () => {
      options.log.debug({ pid: child.pid }, 'job process forked');
      send({
        type: 'start',
        configPath: options.configPath,
        kind: options.kind,
        data: options.data,
        jobId: options.jobId,
        runKey: options.runKey,
        runNotBefore: options.runNotBefore.toISOString(),
        daemonId: options.daemonId,
        lifeboatVersion: options.lifeboatVersion,
      });
      if (options.signal.aborted) onAbort();
      else options.signal.addEventListener('abort', onAbort, { once: true });
    });
    child.once('error', (error) => {
      options.signal.removeEventListener('abort', onAbort);
      reject(new LifeboatError('internal', `cannot start the job process: ${error.message}`, { cause: error }));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(killTimer);
      options.signal.removeEventListener('abort', onAbort);
      if (result?.ok) resolve(result.summary);
      else if (result) reject(new LifeboatError(result.error.code, result.error.message, result.error.hint ? { hint: result.error.hint } : {}));
      else if (options.signal.aborted) reject(new LifeboatError('aborted', `the job process was killed after its abort (${signal ?? `exit ${code}`})`));
      else reject(diedWithoutResult(code, signal));
    });
  });
}
