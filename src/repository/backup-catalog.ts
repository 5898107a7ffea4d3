// The backup catalog, read from the repository alone: every backup of a cluster is the manifest under its
// folder. No Redis, no local state: any machine with the bucket and the key sees the same catalog.
import { backupManifestKey, backupsPrefix, forEachBounded, loadJson, storeJson, type Storage } from '../storage/index.js';
import { backupManifestSchema, type BackupManifest } from './backup-manifest.js';

const MANIFEST_NAME = 'manifest.json';
/** Manifests are small; a few in flight hide the per-request latency of S3. */
const LOAD_CONCURRENCY = 8;

/** Ids of complete backups (those with a manifest), oldest first. */
export async function listBackupIds(storage: Storage, cluster: string, signal?: AbortSignal): Promise<string[]> {
  const prefix = backupsPrefix(cluster);
  const ids: string[] = [];
  for await (const object of storage.list(prefix, { signal })) {
    const rest = object.key.slice(prefix.length);
    const [id, name, ...more] = rest.split('/');
    if (id && name === MANIFEST_NAME && more.length === 0) ids.push(id);
  }
  return ids.sort();
}

export async function loadBackupManifest(storage: Storage, cluster: string, backupId: string, signal?: AbortSignal): Promise<BackupManifest> {
  return loadJson(storage, backupManifestKey(cluster, backupId), backupManifestSchema, { signal });
}

/** Every complete backup's manifest, oldest first. */
export async function loadBackupCatalog(storage: Storage, cluster: string, signal?: AbortSignal): Promise<BackupManifest[]> {
  const ids = await listBackupIds(storage, cluster, signal);
  const manifests: BackupManifest[] = new Array(ids.length);
  await forEachBounded(
    ids.map((id, index) => ({ id, index })),
    LOAD_CONCURRENCY,
    async ({ id, index }) => {
      manifests[index] = await loadBackupManifest(storage, cluster, id, signal);
    },
    signal,
  );
  return manifests;
}

/** Write a manifest: last, create-only. From this moment the backup exists. */
export async function storeBackupManifest(storage: Storage, manifest: BackupManifest, signal?: AbortSignal): Promise<void> {
  await storeJson(storage, backupManifestKey(manifest.cluster, manifest.backupId), backupManifestSchema.parse(manifest), { createOnly: true, signal });
}
