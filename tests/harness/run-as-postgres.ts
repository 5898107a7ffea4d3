// Runs PostgreSQL tools as the `postgres` OS user: initdb and the server refuse to run as root, and the
// tests run as root. When the tests do not run as root, commands simply run as the current user.
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { runProcess, type RunProcessOptions, type RunProcessResult } from './run-process.js';

/** The OS account PostgreSQL processes run as. */
export interface PostgresOsUser {
  uid: number;
  gid: number;
  home: string;
}

let cached: PostgresOsUser | null | undefined;

/** The `postgres` OS account when we are root; undefined when we are not root (run as ourselves). */
export function postgresOsUser(): PostgresOsUser | undefined {
  if (cached !== undefined) return cached ?? undefined;
  if (process.getuid?.() !== 0) {
    cached = null;
    return undefined;
  }
  let entry: string;
  try {
    entry = execFileSync('getent', ['passwd', 'postgres'], { encoding: 'utf8' }).trim();
  } catch (error) {
    throw new Error('running as root but there is no `postgres` OS user to run PostgreSQL as', { cause: error });
  }
  const [, , uid, gid, , home] = entry.split(':');
  cached = { uid: Number(uid), gid: Number(gid), home: home ?? '/' };
  return cached;
}

function asPostgres(env: NodeJS.ProcessEnv | undefined): { uid?: number; gid?: number; env: NodeJS.ProcessEnv } {
  const user = postgresOsUser();
  if (user === undefined) return { env: env ?? process.env };
  return { uid: user.uid, gid: user.gid, env: { ...(env ?? process.env), HOME: user.home, USER: 'postgres' } };
}

/** Runs a command to completion as the postgres OS user; rejects with its output tail on failure. */
export function runAsPostgres(command: string, args: readonly string[], options: RunProcessOptions = {}): Promise<RunProcessResult> {
  return runProcess(command, args, { ...options, ...asPostgres(options.env) });
}

/** Spawns a long-running command (pg_receivewal, postgres) as the postgres OS user; the caller owns it. */
export function spawnAsPostgres(command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  return spawn(command, args, { ...options, ...asPostgres(options.env) });
}
