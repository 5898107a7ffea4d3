// Removes what interrupted backups left behind: folders under backups/ without a manifest (so never listed as
// backups). A folder whose in-progress marker names this host, this state folder and the backup lock the caller
// holds is provably dead and goes at once; any other (another host's, or one without a marker) may still be
// written by a live backup elsewhere, so it goes only once its newest object is older than the grace period.
import type { Logger } from 'pino';
import type { StateIdentity } from '../../state/state-identity.js';
import { backupInProgressKey, backupsPrefix, backupManifestKey, type Storage } from '../../storage/index.js';
import { isOwnedByThisLockHolder, loadBackupOwner, type BackupOwner } from './backup-owner.js';

export interface CleanInterruptedOptions {
  storage: Storage;
  cluster: string;
  /** Leftovers younger than this may belong to a backup still running elsewhere; they are kept. */
  graceMs: number;
  now: Date;
  log: Logger;
  signal: AbortSignal;
  /** This host's state folder and the backup lock the caller holds: leftovers they own are removed at once. */
  holder?: { identity: StateIdentity; lock: string };
}

interface Folder {
  keys: string[];
  newest: number;
  hasManifest: boolean;
  hasMarker: boolean;
}

/** The marker of `id`, or undefined when it is unreadable (then only the grace rule applies). */
async function readOwner(options: CleanInterruptedOptions, id: string): Promise<BackupOwner | undefined> {
  try {
    return await loadBackupOwner(options.storage, options.cluster, id, options.signal);
  } catch (error) {
    if (options.signal.aborted) throw error;
    options.log.warn({ backupId: id, err: error }, 'cannot read the in-progress marker of an unfinished backup; keeping it for the grace period');
    return undefined;
  }
}

/** Returns the ids of the interrupted backups removed. */
export async function cleanInterruptedBackups(options: CleanInterruptedOptions): Promise<string[]> {
  const { storage, cluster, log, signal } = options;
  const prefix = backupsPrefix(cluster);
  const folders = new Map<string, Folder>();
  for await (const object of storage.list(prefix, { signal })) {
    const id = object.key.slice(prefix.length).split('/')[0]!;
    const folder = folders.get(id) ?? { keys: [], newest: 0, hasManifest: false, hasMarker: false };
    folder.keys.push(object.key);
    folder.newest = Math.max(folder.newest, object.lastModified.getTime());
    if (object.key === backupManifestKey(cluster, id)) folder.hasManifest = true;
    if (object.key === backupInProgressKey(cluster, id)) folder.hasMarker = true;
    folders.set(id, folder);
  }
  const removed: string[] = [];
  for (const [id, folder] of folders) {
    if (folder.hasManifest) continue;
    const owner = folder.hasMarker ? await readOwner(options, id) : undefined;
    const provablyDead = owner !== undefined && options.holder !== undefined && isOwnedByThisLockHolder(owner, options.holder.identity, options.holder.lock);
    const ageMs = options.now.getTime() - folder.newest;
    if (!provablyDead && ageMs < options.graceMs) {
      log.info(
        { backupId: id, objects: folder.keys.length, owner: owner ? `pid ${owner.pid} on ${owner.hostname} (${owner.stateDir})` : 'unknown', removableInSeconds: Math.ceil((options.graceMs - ageMs) / 1000) },
        'kept the leftovers of an unfinished backup another host or state folder may still be writing',
      );
      continue;
    }
    await storage.delete(folder.keys, { signal });
    log.warn(
      { backupId: id, objects: folder.keys.length, reason: provablyDead ? `its writer (pid ${owner.pid}, this host and state folder) is gone` : 'older than the grace period' },
      'removed the leftovers of an interrupted backup',
    );
    removed.push(id);
  }
  await storage.cleanupIncompleteWrites(options.graceMs, { signal });
  return removed;
}
