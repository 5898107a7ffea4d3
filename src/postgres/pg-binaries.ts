// Finds the PostgreSQL client programs (pg_basebackup, pg_receivewal, psql, ...): the configured bindir,
// else `pg_config --bindir`, else the newest Debian-style /usr/lib/postgresql/<major>/bin.
import { execFileSync } from 'node:child_process';
import { accessSync, constants, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LifeboatError } from '../errors/index.js';

export type PgTool = 'pg_basebackup' | 'pg_receivewal' | 'psql' | 'pg_verifybackup' | 'pg_ctl' | 'initdb' | 'pg_waldump' | 'pg_controldata' | 'pg_amcheck';

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

let candidates: string[] | undefined;

/**
 * Where to look when no bindir is configured; worked out once per process. It runs `pg_config`, synchronously: a
 * restore called this for every status query it made while replay ran, and the blocked event loop (15-25 ms each)
 * slowed the WAL prefetch that replay was waiting for.
 */
function candidateBindirs(): string[] {
  candidates ??= findCandidateBindirs();
  return candidates;
}

function findCandidateBindirs(): string[] {
  const found: string[] = [];
  try {
    found.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    // pg_config is optional (Debian ships it in libpq-dev); fall through to the versioned folders.
  }
  try {
    const majors = readdirSync('/usr/lib/postgresql')
      .filter((name) => /^\d+$/.test(name))
      .sort((a, b) => Number(b) - Number(a));
    found.push(...majors.map((major) => `/usr/lib/postgresql/${major}/bin`));
  } catch {
    // Not a Debian layout.
  }
  return found;
}

/** Absolute path of `tool`, from `bindir` when configured. Throws postgresTool naming where it looked. */
export function findPgTool(tool: PgTool, bindir?: string): string {
  const dirs = bindir ? [bindir] : candidateBindirs();
  for (const dir of dirs) {
    const path = join(dir, tool);
    if (isExecutable(path)) return path;
  }
  throw new LifeboatError('postgresTool', `cannot find ${tool} (looked in ${dirs.length ? dirs.join(', ') : 'no candidate folders'})`, {
    hint: 'install the PostgreSQL client programs of the server\'s major version, or set clusters[].postgres.bindir',
  });
}
