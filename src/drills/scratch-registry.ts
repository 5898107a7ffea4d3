// Which scratch servers this host's drills have made, so a drill killed halfway (SIGKILL, host reboot) leaves
// nothing behind for long: each drill records its folders under <stateDir>/drills/ before restoring, and removes
// the record when it has removed them. Whoever next holds the host's drill lock (the next drill, or a daemon
// starting) stops and removes what the records name: with the lock free, their drills are provably gone.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { describeError } from '../errors/index.js';
import { stopRestoredServer } from '../restore/start-restored-server.js';
import { resolveOwner } from '../restore/target-dir.js';
import { DRILL_LOCK_NAME } from '../state/lock-names.js';
import { acquireProcessLock } from '../state/process-lock.js';

const scratchRecordSchema = z.strictObject({ drillId: z.string(), pid: z.number().int(), dataDir: z.string(), workDir: z.string(), startedTime: z.string() });
export type ScratchRecord = z.infer<typeof scratchRecordSchema>;

function recordsDir(stateDir: string): string {
  return join(stateDir, 'drills');
}

export function recordScratch(stateDir: string, record: ScratchRecord): void {
  mkdirSync(recordsDir(stateDir), { recursive: true, mode: 0o700 });
  writeFileSync(join(recordsDir(stateDir), `${record.drillId}.json`), `${JSON.stringify(record)}\n`, { mode: 0o600 });
}

/** Stop the scratch server (if it runs) and remove its folders; with `keep`, only the record goes. */
export async function removeScratch(stateDir: string, record: ScratchRecord, options: { keep: boolean; bindir?: string }): Promise<void> {
  if (!options.keep) {
    if (existsSync(join(record.dataDir, 'postmaster.pid'))) {
      // A stale pid file (the server died with its drill) makes pg_ctl fail: nothing left to stop then.
      await stopRestoredServer({ targetDir: record.dataDir, owner: resolveOwner(record.dataDir), ...(options.bindir ? { bindir: options.bindir } : {}) }).catch(() => undefined);
    }
    rmSync(record.dataDir, { recursive: true, force: true });
    rmSync(record.workDir, { recursive: true, force: true });
  }
  rmSync(join(recordsDir(stateDir), `${record.drillId}.json`), { force: true });
}

/** Remove every scratch server a dead drill left. Call only while holding the host's drill lock. */
export async function removeAbandonedScratch(stateDir: string, log: Logger, bindir?: string): Promise<number> {
  let names: string[];
  try {
    names = readdirSync(recordsDir(stateDir)).filter((name) => name.endsWith('.json'));
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const path = join(recordsDir(stateDir), name);
    try {
      const record = scratchRecordSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
      await removeScratch(stateDir, record, { keep: false, ...(bindir ? { bindir } : {}) });
      log.warn({ drillId: record.drillId, dataDir: record.dataDir }, 'removed the scratch server of a drill that did not finish');
      removed += 1;
    } catch (error) {
      log.warn({ record: path, error: describeError(error) }, 'could not remove an abandoned drill scratch server');
    }
  }
  return removed;
}

/**
 * At daemon start: remove the scratch servers of drills that died, when no drill runs on this host right now (the
 * drill lock is free). Returns how many were removed; a held lock means a drill is running, and it cleans up itself.
 */
export async function removeAbandonedScratchIfIdle(stateDir: string, log: Logger, bindir?: string): Promise<number> {
  let lock;
  try {
    lock = await acquireProcessLock(stateDir, DRILL_LOCK_NAME, 'removing abandoned drill scratch servers');
  } catch {
    return 0;
  }
  try {
    return await removeAbandonedScratch(stateDir, log, bindir);
  } finally {
    lock.release();
  }
}
