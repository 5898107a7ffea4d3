// Runs the compiled `lifeboat` CLI once against a fixture's config, as a user would, and returns its exit code,
// output and how long it took. A command that does not end within the timeout is killed and reported as such
// (code null), so a test of "fails at once" cannot hang on a command that retries forever.
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { LifeboatFixture } from './lifeboat-fixture.js';

const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

export interface CliResult {
  /** Exit code; null when killed (timeout). */
  code: number | null;
  stdout: string;
  stderr: string;
  elapsedMs: number;
  timedOut: boolean;
}

export interface CliOptions {
  /** SIGKILL after this many milliseconds. Default 120 000. */
  timeoutMs?: number;
  /** Extra environment on top of the fixture's. */
  env?: NodeJS.ProcessEnv;
}

/** `lifeboat --config <fixture> ...args`, with stdin not a terminal (closed). */
export function runLifeboatCli(fixture: LifeboatFixture, args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const startedMs = Date.now();
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'lifeboat.js'), '--config', fixture.configPath, ...args], {
    env: { ...fixture.env, ...options.env },
    cwd: fixture.dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs ?? 120_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, elapsedMs: Date.now() - startedMs, timedOut });
    }),
  );
}
