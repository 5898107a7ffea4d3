// The clusters a repository holds, read from its folders alone: `backups list` and `verify` cover them without
// a config naming them, so a disaster-recovery host needs only the bucket and the key.
import { LifeboatError } from '../errors/index.js';
import { clusterOfKey, clustersPrefix, type Storage } from '../storage/index.js';

/**
 * Names of the clusters with anything stored under `clusters/<name>/`, sorted. The Storage contract has no
 * folder listing, so this lists every object once; listings come in key order, so each name is seen as a run.
 */
export async function listRepositoryClusters(storage: Storage, signal?: AbortSignal): Promise<string[]> {
  const names: string[] = [];
  for await (const object of storage.list(clustersPrefix(), { signal })) {
    const name = clusterOfKey(object.key);
    if (name !== undefined && names.at(-1) !== name) names.push(name);
  }
  return [...new Set(names)].sort();
}

/**
 * The cluster a command means when `--cluster` is omitted: the only configured one; with none configured (a
 * restore-only config), the only one the repository holds. Otherwise a usage error listing the choices.
 */
export async function defaultCluster(configured: readonly string[], storage: Storage, signal?: AbortSignal): Promise<string> {
  if (configured.length === 1) return configured[0]!;
  const choices = configured.length > 0 ? [...configured] : await listRepositoryClusters(storage, signal);
  if (choices.length === 1) return choices[0]!;
  if (choices.length === 0) {
    throw new LifeboatError('objectNotFound', 'the repository holds no cluster yet', {
      hint: 'check that the config points at the right bucket, prefix or folder',
    });
  }
  throw new LifeboatError('usage', `${configured.length > 0 ? 'the config names' : 'the repository holds'} ${choices.length} clusters; name one with --cluster`, {
    hint: `clusters: ${choices.join(', ')}`,
  });
}
