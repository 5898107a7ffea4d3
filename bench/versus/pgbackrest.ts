// pgBackRest for the vs-pgbackrest case, set up as its users run it: as the postgres OS user, one stanza on the
// bench cluster, an encrypted (aes-256-cbc) repository in a temp dir with zstd level 3 and process-max = cores.
// Two config files differ only in archive-async (with a spool path): the default synchronous archive-push /
// archive-get, and the asynchronous mode its heavy users run. The cipher passphrase lives in the config files
// (0600, owned by postgres), never on a command line.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { PostgresServer } from '../../tests/harness/postgres.js';
import { postgresOsUser } from '../../tests/harness/run-as-postgres.js';
import { shellQuote } from '../measure/run-timed-command.js';

export type PgbackrestMode = 'default' | 'async';

export interface Pgbackrest {
  /** Folder holding the configs, repository, spool, logs and locks: a path unique to this run. */
  dir: string;
  stanza: string;
  processMax: number;
  configPath(mode: PgbackrestMode): string;
  /** The archive_command for `mode`. */
  archiveCommand(mode: PgbackrestMode): string;
  /**
   * `pgbackrest --config=... --stanza=... <args>` as the postgres OS user; resolves with its stdout, rejects with
   * its output on a non-zero exit. `onSpawn` receives the pid of the process that runs it (runuser when root).
   */
  run(mode: PgbackrestMode, args: readonly string[], options?: { timeoutMs?: number; onSpawn?: (pid: number) => void }): Promise<string>;
  /** The same as a shell command line (for GNU time). */
  commandLine(mode: PgbackrestMode, args: readonly string[]): string;
}

/** `argv` prefixed so that it runs as the postgres OS user when we are root. */
function asPostgres(argv: readonly string[]): string[] {
  return postgresOsUser() === undefined ? [...argv] : ['runuser', '-u', 'postgres', '--', ...argv];
}

function runCommand(argv: readonly string[], timeoutMs: number, onSpawn?: (pid: number) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid !== undefined) onSpawn?.(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new Error(`${argv.join(' ')} failed with ${signal ?? `exit ${code}`}:\n${`${stdout}\n${stderr}`.trim().slice(-3000)}`));
    });
  });
}

function ownedByPostgres(path: string): void {
  const user = postgresOsUser();
  if (user !== undefined) chownSync(path, user.uid, user.gid);
}

/** Writes the two config files for a stanza on `pg` under `dir` (created), and creates the stanza. */
export async function createPgbackrest(pg: PostgresServer, dir: string): Promise<Pgbackrest> {
  const stanza = `bench${process.pid}`;
  const processMax = availableParallelism();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  ownedByPostgres(dir);
  for (const sub of ['repo', 'spool', 'log', 'lock']) {
    mkdirSync(join(dir, sub), { mode: 0o700 });
    ownedByPostgres(join(dir, sub));
  }
  const passphrase = randomBytes(32).toString('base64url');
  const global = [
    '[global]',
    `repo1-path=${join(dir, 'repo')}`,
    'repo1-cipher-type=aes-256-cbc',
    `repo1-cipher-pass=${passphrase}`,
    // Every backup of the run stays (expire would otherwise remove the older fulls mid-run).
    'repo1-retention-full=9999',
    'compress-type=zst',
    'compress-level=3',
    `process-max=${processMax}`,
    'start-fast=y',
    `spool-path=${join(dir, 'spool')}`,
    `log-path=${join(dir, 'log')}`,
    `lock-path=${join(dir, 'lock')}`,
    'log-level-console=warn',
    'log-level-file=info',
  ];
  const stanzaSection = [`[${stanza}]`, `pg1-path=${pg.dataDir}`, `pg1-port=${pg.port}`, `pg1-socket-path=${pg.socketDir}`, `pg1-user=${pg.superuser.user}`];
  const configPath = (mode: PgbackrestMode): string => join(dir, `pgbackrest-${mode}.conf`);
  for (const mode of ['default', 'async'] as const) {
    const text = [...global, ...(mode === 'async' ? ['archive-async=y'] : []), '', ...stanzaSection, ''].join('\n');
    writeFileSync(configPath(mode), text, { mode: 0o600 });
    ownedByPostgres(configPath(mode));
  }
  const argsFor = (mode: PgbackrestMode, args: readonly string[]): string[] => [`--config=${configPath(mode)}`, `--stanza=${stanza}`, ...args];
  const pgbackrest: Pgbackrest = {
    dir,
    stanza,
    processMax,
    configPath,
    archiveCommand: (mode) => `pgbackrest ${argsFor(mode, ['archive-push', '%p']).map(shellQuote).join(' ')}`,
    run: (mode, args, options = {}) => runCommand(asPostgres(['pgbackrest', ...argsFor(mode, args)]), options.timeoutMs ?? 3_600_000, options.onSpawn),
    commandLine: (mode, args) => asPostgres(['pgbackrest', ...argsFor(mode, args)]).map(shellQuote).join(' '),
  };
  await pgbackrest.run('default', ['stanza-create'], { timeoutMs: 120_000 });
  return pgbackrest;
}

/** Stored size of the newest backup in the repository, in bytes (`pgbackrest info`). */
export async function newestBackupStoredBytes(pgbackrest: Pgbackrest): Promise<number> {
  const info = JSON.parse(await pgbackrest.run('default', ['info', '--output=json'], { timeoutMs: 120_000 })) as { backup: { info: { repository: { delta: number } } }[] }[];
  return info[0]?.backup.at(-1)?.info.repository.delta ?? Number.NaN;
}

/** `pgbackrest version`, e.g. "pgBackRest 2.45". */
export async function pgbackrestVersion(): Promise<string> {
  return (await runCommand(['pgbackrest', 'version'], 30_000)).trim();
}
