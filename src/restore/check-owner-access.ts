// PostgreSQL runs the restored server and its restore_command (`lifeboat wal fetch`) as the target's owner, not
// as whoever runs `lifeboat restore`. Check, before anything is written, that this user can reach the target
// folder, run lifeboat, and read an fs repository: otherwise recovery would only fail later, at its first fetch.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { RuntimeRepository } from '../config/index.js';
import { LifeboatError } from '../errors/index.js';
import type { OsOwner } from './target-dir.js';

const run = promisify(execFile);

export interface OwnerAccessOptions {
  owner: OsOwner;
  /** The restore's target data directory (may not exist yet). */
  targetDir: string;
  repository: RuntimeRepository;
  /** A repository object recovery will fetch (a planned WAL segment); its mode stands for all of them. */
  sampleKey?: string;
  /** node and bin/lifeboat.js as restore_command runs them. */
  lifeboatCommand: readonly [string, string];
  signal: AbortSignal;
}

function nearestExisting(path: string): string {
  let current = path;
  while (!existsSync(current)) current = dirname(current);
  return current;
}

async function asOwner(owner: OsOwner, args: readonly string[], signal: AbortSignal): Promise<boolean> {
  try {
    await run('runuser', ['-u', owner.name, '--', ...args], { timeout: 30_000, signal });
    return true;
  } catch {
    signal.throwIfAborted();
    return false;
  }
}

/** Throws `usage` naming what the owner cannot do. A no-op unless lifeboat runs as root for another owner. */
export async function checkOwnerAccess(options: OwnerAccessOptions): Promise<void> {
  const { owner, signal } = options;
  if (process.getuid?.() !== 0 || owner.uid === 0) return;
  const ancestor = nearestExisting(dirname(options.targetDir));
  if (!(await asOwner(owner, ['test', '-x', ancestor], signal))) {
    throw new LifeboatError('usage', `the PostgreSQL OS user ${owner.name} cannot reach ${ancestor}, where the restored data directory goes`, {
      hint: `let ${owner.name} traverse every folder above the target (chmod o+x, or a group), or choose a target under a folder it can reach`,
    });
  }
  if (!(await asOwner(owner, [...options.lifeboatCommand, '--version'], signal))) {
    throw new LifeboatError('usage', `the PostgreSQL OS user ${owner.name} cannot run ${options.lifeboatCommand.join(' ')}, which recovery uses as its restore_command`, {
      hint: `install lifeboat where ${owner.name} can read and execute it (not under /root)`,
    });
  }
  const { repository } = options;
  if (repository.driver !== 'fs') return;
  const sample = options.sampleKey === undefined ? undefined : join(repository.path, options.sampleKey);
  const readable = (await asOwner(owner, ['test', '-r', repository.path, '-a', '-x', repository.path], signal)) && (sample === undefined || (await asOwner(owner, ['test', '-r', sample], signal)));
  if (!readable) {
    throw new LifeboatError('usage', `the PostgreSQL OS user ${owner.name} cannot read the fs repository ${sample ?? repository.path}; recovery fetches WAL from it as that user (restore_command)`, {
      hint: `run lifeboat as ${owner.name} (the repository then belongs to it; its objects are written 0600), or give ${owner.name} read access to every folder and object of ${repository.path}`,
    });
  }
}
