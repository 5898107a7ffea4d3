// The in-progress marker of a full backup: which host, state folder and lock own it. Written before the first
// part, so a folder without a manifest always says who was writing it; a later backup holding the same lock on
// the same host and state folder knows that writer is dead and removes its leftovers at once.
import { z } from 'zod';
import type { StateIdentity } from '../../state/state-identity.js';
import { backupInProgressKey, loadJson, storeJson, type Storage } from '../../storage/index.js';

export const backupOwnerSchema = z.object({
  formatVersion: z.literal(1),
  backupId: z.string(),
  cluster: z.string(),
  hostId: z.string(),
  hostname: z.string(),
  stateId: z.string(),
  stateDir: z.string(),
  /** The process lock the writer held (lock-names.ts), on `stateDir`. */
  lock: z.string(),
  pid: z.number().int(),
  startTime: z.string(),
});

export type BackupOwner = z.infer<typeof backupOwnerSchema>;

export function createBackupOwner(identity: StateIdentity, cluster: string, backupId: string, lock: string, startTime: Date): BackupOwner {
  return {
    formatVersion: 1,
    backupId,
    cluster,
    hostId: identity.hostId,
    hostname: identity.hostname,
    stateId: identity.stateId,
    stateDir: identity.stateDir,
    lock,
    pid: process.pid,
    startTime: startTime.toISOString(),
  };
}

/** Create-only: a backup id is never reused, so an existing marker is someone else's backup. */
export async function storeBackupOwner(storage: Storage, owner: BackupOwner, signal: AbortSignal): Promise<void> {
  await storeJson(storage, backupInProgressKey(owner.cluster, owner.backupId), owner, { createOnly: true, signal });
}

export async function loadBackupOwner(storage: Storage, cluster: string, backupId: string, signal: AbortSignal): Promise<BackupOwner> {
  return loadJson(storage, backupInProgressKey(cluster, backupId), backupOwnerSchema, { signal, maxBytes: 64 * 1024 });
}

/**
 * True when `owner` is this host and state folder under `lock`: while the caller holds that lock (released by the
 * kernel when its holder dies), the process that wrote the marker can no longer be writing.
 */
export function isOwnedByThisLockHolder(owner: BackupOwner, identity: StateIdentity, lock: string): boolean {
  return owner.hostId === identity.hostId && owner.stateId === identity.stateId && owner.lock === lock;
}
