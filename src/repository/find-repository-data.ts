// Whether a repository already holds data, and which object proves a key opens it. Both stop at the first match
// of a lazy listing, so a repository of any size costs one listing page in the common case.
import { clustersPrefix, isEncryptedObjectKey, isRepositoryBookkeepingKey, type Storage } from '../storage/index.js';

/** The key of the first object that is data (not lifeboat.json, keys.json or a probe), or undefined when empty. */
export async function findRepositoryData(storage: Storage, signal?: AbortSignal): Promise<string | undefined> {
  for await (const object of storage.list('', signal ? { signal } : {})) {
    if (!isRepositoryBookkeepingKey(object.key)) return object.key;
  }
  return undefined;
}

/**
 * The first encrypted object in key order, or undefined when there is none. Key order puts a cluster's backups
 * (ids are start times) before its WAL and the oldest first, so this is an object of the oldest backup: one
 * written with the key the repository started with, not one a later mix-up may have added under another key.
 */
export async function findKeyProofObject(storage: Storage, signal?: AbortSignal): Promise<string | undefined> {
  for await (const object of storage.list(clustersPrefix(), signal ? { signal } : {})) {
    if (isEncryptedObjectKey(object.key)) return object.key;
  }
  return undefined;
}
