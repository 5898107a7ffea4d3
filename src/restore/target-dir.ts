// The restore's target data directory: who will own it, whether it may be written (empty, no running postmaster,
// enough space), and preparing it (created 0700, owned by the PostgreSQL OS user, emptied only with --force).
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, statfsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { LifeboatError } from '../errors/index.js';
import { runningPostmaster } from './running-postmaster.js';

export interface OsOwner {
  uid: number;
  gid: number;
  name: string;
}

export interface TargetDirState {
  path: string;
  exists: boolean;
  entries: number;
  /** Who the restored files will belong to. */
  owner: OsOwner;
  freeBytes: number;
}

function nearestExisting(path: string): string {
  let current = resolve(path);
  while (!existsSync(current)) current = dirname(current);
  return current;
}

function userName(uid: number): string {
  try {
    return execFileSync('id', ['-nu', String(uid)], { encoding: 'utf8' }).trim();
  } catch {
    return String(uid);
  }
}

/** The PostgreSQL OS user: owner of the target when it exists and is not root, else `postgres` (when we are root). */
export function resolveOwner(path: string): OsOwner {
  if (existsSync(path)) {
    const stat = statSync(path);
    if (stat.uid !== 0) return { uid: stat.uid, gid: stat.gid, name: userName(stat.uid) };
  }
  if (process.getuid?.() !== 0) return { uid: process.getuid!(), gid: process.getgid!(), name: userName(process.getuid!()) };
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid, name: 'postgres' };
  } catch {
    throw new LifeboatError('usage', 'running as root, and there is no "postgres" OS user to own the restored files', {
      hint: 'PostgreSQL refuses to run as root: create the target folder owned by the PostgreSQL OS user, or run lifeboat as that user',
    });
  }
}

export function inspectTargetDir(path: string): TargetDirState {
  const absolute = resolve(path);
  const exists = existsSync(absolute);
  if (exists && !statSync(absolute).isDirectory()) {
    throw new LifeboatError('usage', `target ${absolute} exists and is not a directory`, { hint: 'choose a new or empty folder for the restored data directory' });
  }
  const stat = statfsSync(nearestExisting(absolute));
  return {
    path: absolute,
    exists,
    entries: exists ? readdirSync(absolute).length : 0,
    owner: resolveOwner(absolute),
    freeBytes: Number(stat.bavail) * Number(stat.bsize),
  };
}

/** Refuse what cannot be right. Nothing is written before this passes. */
export function checkTargetDir(state: TargetDirState, options: { force: boolean; neededBytes: number }): void {
  const pid = state.exists ? runningPostmaster(state.path) : undefined;
  if (pid !== undefined) {
    throw new LifeboatError('usage', `a postmaster (pid ${pid}) is running in ${state.path}`, {
      hint: `stop it first (pg_ctl -D ${state.path} stop), or restore into another folder`,
    });
  }
  if (state.entries > 0 && !options.force) {
    throw new LifeboatError('usage', `target ${state.path} is not empty (${state.entries} entries)`, {
      hint: 'restore into an empty or new folder, or pass --force to delete its contents first',
    });
  }
  if (state.freeBytes < options.neededBytes) {
    throw new LifeboatError('usage', `not enough disk space at ${state.path}: the restore needs ${(options.neededBytes / 1e9).toFixed(2)} GB, ${(state.freeBytes / 1e9).toFixed(2)} GB are free`, {
      hint: 'free space or choose a target on a larger file system',
    });
  }
}

/** Create (or, with force, empty) the folder with mode 0700, owned by `owner`. */
export function prepareTargetDir(state: TargetDirState, force: boolean): void {
  if (state.exists && force) {
    for (const entry of readdirSync(state.path)) rmSync(join(state.path, entry), { recursive: true, force: true });
  }
  // Parents with the default mode (the owner must traverse them), the data directory itself 0700.
  mkdirSync(dirname(state.path), { recursive: true });
  mkdirSync(state.path, { recursive: true, mode: 0o700 });
  chmodSync(state.path, 0o700);
  chownSync(state.path, state.owner.uid, state.owner.gid);
}
