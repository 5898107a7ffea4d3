// Locates the local PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup...): `pg_config --bindir`
// first, then the highest /usr/lib/postgresql/<major>/bin (Debian/Ubuntu layout). Undefined when neither
// exists, which makes startPostgres fall back to a container.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

function fromPgConfig(): string | undefined {
  try {
    const bindir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return existsSync(join(bindir, 'initdb')) ? bindir : undefined;
  } catch {
    return undefined;
  }
}

function fromDebianLayout(): string | undefined {
  const root = '/usr/lib/postgresql';
  let majors: string[];
  try {
    majors = readdirSync(root).filter((name) => /^\d+(\.\d+)?$/.test(name));
  } catch {
    return undefined;
  }
  majors.sort((a, b) => Number(b) - Number(a));
  return majors.map((major) => join(root, major, 'bin')).find((bindir) => existsSync(join(bindir, 'initdb')));
}

let cached: string | null | undefined;

/** The directory holding initdb and pg_ctl, or undefined when no local PostgreSQL is installed. */
export function findPostgresBindir(): string | undefined {
  if (cached === undefined) cached = fromPgConfig() ?? fromDebianLayout() ?? null;
  return cached ?? undefined;
}
