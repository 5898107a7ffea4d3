// Asks the repository whether a run already happened: the backup whose manifest carries the run's key. A daemon
// may die after a backup's manifest is written but before the run's record says done; the manifest is written
// last and create-only, so finding it here is exact, and a redelivered run takes no second backup.
import { createBackupId } from '../backup/backup-id.js';
import { listBackupIds, loadBackupManifest } from '../repository/backup-catalog.js';
import type { BackupManifest } from '../repository/backup-manifest.js';
import { forEachBounded, type Storage } from '../storage/index.js';

/** Manifests are small; a few in flight hide the per-request latency of S3. */
const LOAD_CONCURRENCY = 8;

/**
 * The backup of `cluster` that run `runKey` took, if any. Only backups started at or after `notBefore` are read
 * (ids sort by start time), so the look-up costs a listing and the few newest manifests, not the whole catalog.
 */
export async function findRunBackup(storage: Storage, cluster: string, runKey: string, notBefore: Date, signal: AbortSignal): Promise<BackupManifest | undefined> {
  const earliest = createBackupId('full', notBefore).slice(0, -2);
  const ids = (await listBackupIds(storage, cluster, signal)).filter((id) => id.slice(0, earliest.length) >= earliest);
  let found: BackupManifest | undefined;
  await forEachBounded(
    ids,
    LOAD_CONCURRENCY,
    async (id) => {
      const manifest = await loadBackupManifest(storage, cluster, id, signal);
      if (manifest.runKey === runKey) found = manifest;
    },
    signal,
  );
  return found;
}
