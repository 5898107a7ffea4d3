// Runs a PostgreSQL client program against a cluster: libpq settings in the environment, the password in a
// private PGPASSFILE (never argv), cancellation by AbortSignal, and failures reported with the tool's stderr.
import { spawn, type ChildProcess } from 'node:child_process';
import { LifeboatError } from '../errors/index.js';
import { redactSecrets } from '../log/index.js';
import type { RuntimeCluster } from '../config/index.js';
import { createLibpqEnv } from './libpq-env.js';
import { findPgTool, type PgTool } from './pg-binaries.js';
import { createPgPassFile, type PgPassFile } from './pgpass-file.js';

export interface PgToolProcess {
  child: ChildProcess;
  /** Resolves when the process exits 0; rejects with postgresTool naming the tool and its stderr tail. */
  done: Promise<void>;
}

const STDERR_TAIL_BYTES = 4096;

/**
 * Start `tool` for `cluster`. stdout is a pipe for the caller (or ignored with `stdout: 'ignore'`).
 * The pgpass file lives exactly as long as the process.
 */
export function startPgTool(
  cluster: RuntimeCluster,
  tool: PgTool,
  args: readonly string[],
  options: { signal?: AbortSignal; stdout?: 'pipe' | 'ignore'; applicationName?: string; cwd?: string } = {},
): PgToolProcess {
  const path = findPgTool(tool, cluster.postgres.bindir);
  const passFile: PgPassFile | undefined = cluster.postgres.password
    ? createPgPassFile(cluster.postgres.user, cluster.postgres.password)
    : undefined;
  const env = createLibpqEnv(cluster.postgres, { passFile: passFile?.path, applicationName: options.applicationName ?? `lifeboat-${tool}` });
  const child = spawn(path, [...args], {
    env,
    cwd: options.cwd,
    stdio: ['ignore', options.stdout ?? 'pipe', 'pipe'],
    signal: options.signal,
    killSignal: 'SIGTERM',
  });
  let stderrTail = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_BYTES);
  });
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', (error) => {
      passFile?.dispose();
      if ((error as { name?: string }).name === 'AbortError') {
        reject(new LifeboatError('aborted', `${tool} was cancelled`, { cause: error }));
      } else {
        reject(new LifeboatError('postgresTool', `cannot run ${path}: ${error.message}`, { cause: error }));
      }
    });
    child.once('close', (code, signal) => {
      passFile?.dispose();
      if (code === 0) return resolve();
      if (options.signal?.aborted) return reject(new LifeboatError('aborted', `${tool} was cancelled`));
      const why = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      reject(
        new LifeboatError('postgresTool', `${tool} ${why}: ${redactSecrets(stderrTail.trim()) || '(no output)'}`, {
          hint: 'the message above is from the PostgreSQL tool itself; it usually names the setting or permission to fix',
        }),
      );
    });
  });
  return { child, done };
}

/** Run `tool` to completion and return its stdout (small outputs only: capped at 1 MiB). */
export async function runPgTool(
  cluster: RuntimeCluster,
  tool: PgTool,
  args: readonly string[],
  options: { signal?: AbortSignal } = {},
): Promise<string> {
  const { child, done } = startPgTool(cluster, tool, args, options);
  let stdout = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    if (stdout.length < 1 << 20) stdout += chunk;
  });
  await done;
  return stdout;
}
