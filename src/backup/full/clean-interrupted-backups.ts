// Removes what interrupted backups left behind: folders under backups/ without a manifest (so never listed as
// backups) whose newest object is older than the grace period, plus abandoned multipart uploads.
import type { Logger } from 'pino';
import { backupsPrefix, backupManifestKey, type Storage } from '../../storage/index.js';

export interface CleanInterruptedOptions {
  storage: Storage;
  cluster: string;
  /** Leftovers younger than this may belong to a backup still running elsewhere; they are kept. */
  graceMs: number;
  now: Date;
  log: Logger;
  signal: AbortSignal;
}

/** Returns the ids of the interrupted backups removed. */
export async function cleanInterruptedBackups(options: CleanInterruptedOptions): Promise<string[]> {
  const { storage, cluster, log, signal } = options;
  const prefix = backupsPrefix(cluster);
  const folders = new Map<string, { keys: string[]; newest: number; hasManifest: boolean }>();
  for await (const object of storage.list(prefix, { signal })) {
    const id = object.key.slice(prefix.length).split('/')[0]!;
    const folder = folders.get(id) ?? { keys: [], newest: 0, hasManifest: false };
    folder.keys.push(object.key);
    folder.newest = Math.max(folder.newest, object.lastModified.getTime());
    if (object.key === backupManifestKey(cluster, id)) folder.hasManifest = true;
    folders.set(id, folder);
  }
  const removed: string[] = [];
  for (const [id, folder] of folders) {
    if (folder.hasManifest || options.now.getTime() - folder.newest < options.graceMs) continue;
    await storage.delete(folder.keys, { signal });
    log.warn({ backupId: id, objects: folder.keys.length }, 'removed the leftovers of an interrupted backup');
    removed.push(id);
  }
  await storage.cleanupIncompleteWrites(options.graceMs, { signal });
  return removed;
}
