// Is a postmaster serving a data directory? Read from its postmaster.pid, as pg_ctl does, but a zombie counts
// as gone: in containers whose init never reaps orphans, a postmaster that exited stays a zombie, and
// kill(pid, 0) alone would report it alive forever. Also the state the postmaster advertises in that file.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses; the state follows the last ')'.
    return /^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    // No /proc (not Linux) or the process is gone: kill() below decides.
    return false;
  }
}

function readPidFile(dataDir: string): string[] | undefined {
  try {
    return readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return undefined;
  }
}

/**
 * What the live postmaster in `dataDir` says it is doing (line 8 of postmaster.pid): `starting`, `ready`
 * (accepting connections: read-only ones while in recovery with hot_standby), `standby` (in recovery, accepting
 * none) or `stopping`; undefined when none runs. `ready` does not mean recovery has ended.
 */
export function postmasterStatus(dataDir: string): string | undefined {
  const lines = readPidFile(dataDir);
  if (lines === undefined || runningPostmaster(dataDir) === undefined) return undefined;
  return lines[7]?.trim() || 'starting';
}

/** The pid of the live postmaster in `dataDir`, or undefined. */
export function runningPostmaster(dataDir: string): number | undefined {
  const pid = Number(readPidFile(dataDir)?.[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: alive, but owned by another user (we are not root).
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
  }
  return isZombie(pid) ? undefined : pid;
}
