// Opens the configured repository: the storage driver and the key provider, held to the repository's key record
// (see open-repository-key.ts). Writers create a local key only for an empty repository; readers never do (a new
// key could only produce "wrong key" errors on a restore).
import type { RuntimeConfig } from '../config/index.js';
import type { KeyProvider } from '../crypto/index.js';
import { openStorage, type Storage } from '../storage/index.js';
import { openRepositoryKey, type KeyOpenMode } from './open-repository-key.js';

export interface Repository {
  storage: Storage;
  keys: KeyProvider;
  /** Release the key provider's clients and key material. */
  close(): void;
}

/**
 * Open storage and keys for `mode`: `write` for backups, archiving, restore points and check (refuses a key the
 * repository does not know, records the key of a new repository), `read` for restore, verify and listing.
 */
export async function openRepository(config: RuntimeConfig, mode: KeyOpenMode, signal?: AbortSignal): Promise<Repository> {
  const storage = openStorage(config.repository);
  const { keys } = await openRepositoryKey(storage, config.encryption, { mode, ...(signal ? { signal } : {}) });
  return { storage, keys, close: () => keys.close() };
}
