// A long-running service child (moto, redis-server): keeps draining its output into a bounded tail for
// error messages, and guarantees it dies with the test process (exit handler + watchdog), together with
// its temp dir. stop() is graceful (SIGTERM, then SIGKILL) and idempotent.
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { registerExitCleanup } from './exit-cleanup.js';
import { killProcessTreeSync, waitForProcessesGone } from './process-tree.js';
import { tailLines } from './run-process.js';
import { shellQuote, startWatchdog } from './watchdog.js';

/** What to run. */
export interface ServiceProcessOptions {
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Removed (recursively) once the process is dead, on stop() and on crash cleanup. */
  tempDir?: string;
}

/** A started service child. */
export interface ServiceProcess {
  readonly child: ChildProcess;
  /** The last ~16 KiB of combined stdout/stderr. */
  outputTail(): string;
  /** The last ~16 KiB of stdout alone (a command's output lines, without its logs). */
  stdoutTail(): string;
  /** True once the process has exited. */
  hasExited(): boolean;
  /** Resolves when the process exits, with a one-line description of how. */
  readonly exited: Promise<string>;
  /** SIGTERM, SIGKILL after `graceMs` (default 5000), wait for exit, remove the temp dir. */
  stop(graceMs?: number): Promise<void>;
}

const TAIL_BYTES = 16 * 1024;

/** Spawns the service; it is not known to be ready yet (the caller polls for that). */
export function startServiceProcess(options: ServiceProcessOptions): ServiceProcess {
  const child = spawn(options.command, options.args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  let stdoutTail = '';
  const append = (chunk: string): void => {
    tail = (tail + chunk).slice(-TAIL_BYTES);
  };
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    append(chunk);
    stdoutTail = (stdoutTail + chunk).slice(-TAIL_BYTES);
  });
  child.stderr?.setEncoding('utf8').on('data', append);
  let exited = false;
  const exitedPromise = new Promise<string>((resolve) => {
    child.once('error', (error) => {
      exited = true;
      resolve(`could not start: ${error.message}`);
    });
    child.once('exit', (code, signal) => {
      exited = true;
      resolve(signal === null ? `exited with status ${code}` : `killed by ${signal}`);
    });
  });

  const pid = child.pid;
  const tempDir = options.tempDir;
  const cancelWatchdog =
    pid === undefined
      ? () => undefined
      : startWatchdog(`kill -9 ${pid} 2>/dev/null; ${tempDir === undefined ? '' : `rm -rf ${shellQuote(tempDir)}`}`);
  const unregister = registerExitCleanup(() => {
    cancelWatchdog();
    if (pid !== undefined && !exited) killProcessTreeSync(pid, 'SIGKILL');
    if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true, maxRetries: 5 });
  });

  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 5000): Promise<void> => {
    stopping ??= (async () => {
      if (!exited && pid !== undefined) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => killProcessTreeSync(pid, 'SIGKILL'), graceMs);
        await exitedPromise;
        clearTimeout(timer);
        await waitForProcessesGone([pid]).catch(() => undefined);
      }
      cancelWatchdog();
      unregister();
      if (tempDir !== undefined) await rm(tempDir, { recursive: true, force: true, maxRetries: 5 });
    })();
    return stopping;
  };

  return { child, outputTail: () => tail, stdoutTail: () => stdoutTail, hasExited: () => exited, exited: exitedPromise, stop };
}

/**
 * Polls `probe` every 100 ms until it resolves true. Rejects, with the service's output tail, when the
 * service exits first or `timeoutMs` passes (then the service is stopped). `what` names it in errors.
 */
export async function waitUntilServiceReady(
  service: ServiceProcess,
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (service.hasExited()) throw new Error(`${what} ${await service.exited} before it was ready:\n${tailLines(service.outputTail())}`);
    if (Date.now() > deadline) {
      await service.stop();
      throw new Error(`${what} was not ready within ${timeoutMs} ms:\n${tailLines(service.outputTail())}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
