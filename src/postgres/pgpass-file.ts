// Hands a password to libpq child processes without putting it on a command line or in the environment:
// a 0600 PGPASSFILE in a private 0700 folder outside any data directory, removed when disposed.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Secret } from '../config/index.js';

export interface PgPassFile {
  /** Path to pass as PGPASSFILE. */
  readonly path: string;
  /** Delete the file and its folder; safe to call twice. */
  dispose(): void;
}

/** Escape `:` and `\` as the .pgpass format requires. */
function escapeField(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/:/g, '\\:');
}

/** Write a one-line pgpass file matching any host, port and database for `user`. */
export function createPgPassFile(user: string, password: Secret): PgPassFile {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-pgpass-'));
  const path = join(dir, 'pgpass');
  // Wildcard host/port/database: the connection is fully determined by the env we pass along with it.
  writeFileSync(path, `*:*:*:${escapeField(user)}:${escapeField(password.reveal())}\n`, { mode: 0o600, flag: 'wx' });
  let disposed = false;
  return {
    path,
    dispose() {
      if (disposed) return;
      disposed = true;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
