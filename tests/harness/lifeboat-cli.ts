// Runs the compiled `lifeboat` CLI (bin/lifeboat.js on dist/) as a child process, the way an operator does, and
// returns its exit code and output: for tests that assert exit codes and error lines end to end. Call
// ensureCliBuilt() (wal-archiver-runner.ts) in beforeAll so dist/ matches src/.
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';

const CLI = join(resolve(import.meta.dirname, '..', '..'), 'bin', 'lifeboat.js');

export interface CliResult {
  /** Exit code; null when a signal ended the process. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Config file, passed as --config. */
  configPath: string;
  /** The child's whole environment (no secrets inherited by accident); PATH is added. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** SIGKILL and fail after this long. Default 120 000 ms. */
  timeoutMs?: number;
}

export interface CliProcess {
  readonly child: ChildProcess;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  readonly done: Promise<CliResult>;
}

/** Start `lifeboat --config FILE args...`; `done` settles when it exits (rejects on timeout). */
export function startCli(args: readonly string[], options: CliOptions): CliProcess {
  const child = spawn(process.execPath, [CLI, '--config', options.configPath, ...args], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timeoutMs = options.timeoutMs ?? 120_000;
  const done = new Promise<CliResult>((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`lifeboat ${args.join(' ')} did not exit within ${timeoutMs} ms\n${stderr.slice(-2000)}`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
  return { child, stdout: () => stdout, stderr: () => stderr, done };
}

/** Run `lifeboat --config FILE args...` to completion. */
export function runCli(args: readonly string[], options: CliOptions): Promise<CliResult> {
  return startCli(args, options).done;
}

/** What {@link runLifeboatCli} reports: a timeout is a result (code null, timedOut), not a rejection. */
export interface FixtureCliResult {
  /** Exit code; null when killed (timeout). */
  code: number | null;
  stdout: string;
  stderr: string;
  elapsedMs: number;
  timedOut: boolean;
}

/**
 * `lifeboat --config <fixture> ...args` in the fixture's folder and environment, with stdin closed. A command that
 * does not end within the timeout (default 120 s) is killed and reported as such, so a test of "fails at once"
 * cannot hang on a command that retries forever.
 */
export async function runLifeboatCli(
  fixture: { configPath: string; dir: string; env: NodeJS.ProcessEnv },
  args: readonly string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<FixtureCliResult> {
  const startedMs = Date.now();
  const cli = startCli(args, { configPath: fixture.configPath, cwd: fixture.dir, env: { ...fixture.env, ...options.env }, timeoutMs: options.timeoutMs ?? 120_000 });
  try {
    const result = await cli.done;
    return { code: result.code, stdout: result.stdout, stderr: result.stderr, elapsedMs: Date.now() - startedMs, timedOut: false };
  } catch {
    return { code: null, stdout: cli.stdout(), stderr: cli.stderr(), elapsedMs: Date.now() - startedMs, timedOut: true };
  }
}
