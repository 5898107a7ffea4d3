// A full backup that fails or is interrupted before its manifest removes what it stored, so an interruption costs
// no storage and the operator is told so. Best effort and bounded in time (the process is being stopped): what it
// cannot remove stays behind as leftovers, which the next full backup from this state folder removes at once.
import type { Logger } from 'pino';
import { describeError } from '../../errors/index.js';
import { backupPrefix, collectList, type Storage } from '../../storage/index.js';

/** How long an interrupted backup spends removing its objects before giving up. */
export const DISCARD_TIMEOUT_MS = 15_000;

/** Removes every object of `backupId` and returns what happened, as a phrase for the operator. */
export async function discardUnfinishedBackup(storage: Storage, cluster: string, backupId: string, log: Logger, timeoutMs = DISCARD_TIMEOUT_MS): Promise<string> {
  // The command's own signal has usually fired already: this gets a fresh, short deadline of its own.
  const signal = AbortSignal.timeout(timeoutMs);
  let keys: string[] = [];
  try {
    keys = (await collectList(storage, backupPrefix(cluster, backupId), { signal })).map((object) => object.key);
    if (keys.length > 0) await storage.delete(keys, { signal });
    const parts = keys.filter((key) => key.includes('/base/')).length;
    log.info({ backupId, objects: keys.length, parts }, 'removed the objects of the unfinished backup');
    return parts > 0 ? `removed ${parts} stored part${parts === 1 ? '' : 's'} of backup ${backupId}` : `backup ${backupId} had stored no part yet`;
  } catch (error) {
    log.warn({ backupId, err: error }, 'could not remove the objects of the unfinished backup');
    return `could not remove the objects of backup ${backupId} (${describeError(error)}); the next full backup from this state folder removes them`;
  }
}
