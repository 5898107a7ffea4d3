// Runs the compiled `lifeboat` CLI (bin/lifeboat.js on dist/) as a child process, the way an operator does, and
// returns its exit code and output: for tests that assert exit codes, error lines and interruptions end to end.
// Call ensureCliBuilt() (wal-archiver-runner.ts) in beforeAll so dist/ matches src/.
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { registerExitCleanup } from './exit-cleanup.js';
import { waitFor } from './wait-for.js';

const CLI = join(resolve(import.meta.dirname, '..', '..'), 'bin', 'lifeboat.js');

export interface CliResult {
  /** Exit code; null when a signal ended the process. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stderr lines that are not JSON log lines: what the operator reads. */
  reportLines: string[];
  /** From start to exit, in milliseconds. */
  elapsedMs: number;
}

export interface CliOptions {
  /** Config file, passed as --config. */
  configPath: string;
  /** The child's whole environment (no secrets inherited by accident); PATH is added. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** SIGKILL (the group, if detached) and fail after this long. Default 120 000 ms. */
  timeoutMs?: number;
  /** Start it in its own process group, which signalGroup() signals as a whole (a terminal's Ctrl-C). Default false. */
  detached?: boolean;
}

export interface CliProcess {
  readonly child: ChildProcess;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  /** Waits until stderr holds a line matching `pattern` (rejects if the process exits first). Default 120 000 ms. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Sends `signal` to the whole process group, as a terminal's Ctrl-C does; needs `detached`. */
  signalGroup(signal: NodeJS.Signals): void;
  readonly done: Promise<CliResult>;
}

/** Signals the group `child` leads; a group that is gone already is not an error. */
function signalGroupOf(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // The group is gone already.
  }
}

/**
 * Start `lifeboat --config FILE args...`; `done` settles when it exits (rejects on timeout). If the test process
 * exits first, the CLI (its group, if detached) is killed.
 */
export function startCli(args: readonly string[], options: CliOptions): CliProcess {
  const startedMs = Date.now();
  const detached = options.detached ?? false;
  const child = spawn(process.execPath, [CLI, '--config', options.configPath, ...args], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached,
  });
  let stdout = '';
  let stderr = '';
  let exited = false;
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const kill = (): void => {
    if (detached) signalGroupOf(child, 'SIGKILL');
    else child.kill('SIGKILL');
  };
  const unregister = registerExitCleanup(() => {
    if (!exited) kill();
  });
  const timeoutMs = options.timeoutMs ?? 120_000;
  const done = new Promise<CliResult>((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      kill();
      reject(new Error(`lifeboat ${args.join(' ')} did not exit within ${timeoutMs} ms\n${stderr.slice(-2000)}`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      exited = true;
      clearTimeout(timer);
      unregister();
      const reportLines = stderr.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('{'));
      resolvePromise({ code, signal, stdout, stderr, reportLines, elapsedMs: Date.now() - startedMs });
    });
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    async waitForLine(pattern, lineTimeoutMs = 120_000) {
      await waitFor(
        `a line matching ${pattern} from lifeboat ${args.join(' ')}`,
        () => {
          if (exited) throw new Error(`exited before printing it:\n${stderr.slice(-3000)}`);
          return stderr.split('\n').some((line) => pattern.test(line));
        },
        { timeoutMs: lineTimeoutMs, intervalMs: 50 },
      );
    },
    signalGroup(signal) {
      if (!detached) throw new Error('signalGroup needs a CLI started with detached: true (its own process group)');
      signalGroupOf(child, signal);
    },
    done,
  };
}

/** Run `lifeboat --config FILE args...` to completion. */
export function runCli(args: readonly string[], options: CliOptions): Promise<CliResult> {
  return startCli(args, options).done;
}

/** A Lifeboat test fixture: its config file, its folder (the CLI's working directory) and its environment. */
export interface CliFixture {
  configPath: string;
  dir: string;
  env: NodeJS.ProcessEnv;
}

/** `lifeboat --config <fixture> ...args` in the fixture's folder and environment (plus `options.env`). */
export function startFixtureCli(fixture: CliFixture, args: readonly string[], options: Omit<CliOptions, 'configPath' | 'cwd'> = {}): CliProcess {
  return startCli(args, { ...options, configPath: fixture.configPath, cwd: fixture.dir, env: { ...fixture.env, ...options.env } });
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
export async function runLifeboatCli(fixture: CliFixture, args: readonly string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<FixtureCliResult> {
  const startedMs = Date.now();
  const cli = startFixtureCli(fixture, args, { env: options.env ?? {}, timeoutMs: options.timeoutMs ?? 120_000 });
  try {
    const result = await cli.done;
    return { code: result.code, stdout: result.stdout, stderr: result.stderr, elapsedMs: result.elapsedMs, timedOut: false };
  } catch {
    return { code: null, stdout: cli.stdout(), stderr: cli.stderr(), elapsedMs: Date.now() - startedMs, timedOut: true };
  }
}
