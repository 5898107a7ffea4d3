// `lifeboat repository init`: initialise an empty repository for the configured key (creating a missing local
// key file) and record the key's identity; on a repository that already records this key it changes nothing.
import type { RuntimeConfig } from '../config/index.js';
import type { KeyProviderKind } from '../crypto/index.js';
import { openStorage, repositoryKeysKey } from '../storage/index.js';
import { openRepositoryKey } from './open-repository-key.js';

export interface RepositoryInitReport {
  /** Where the repository is (folder or s3:// URL). */
  location: string;
  /** The record's object key, relative to the repository. */
  recordKey: string;
  provider: KeyProviderKind;
  /** The recorded key ids (local key id, or KMS key ARNs). */
  keyIds: string[];
  /** The configured key, e.g. `key file /etc/lifeboat/repo.key (key id 3f1c...)`. */
  key: string;
  /**
   * `initialised`: an empty repository got its record now; `recorded`: a repository with data and no record got
   * one after the key opened `provenWith`; `unchanged`: it already recorded this key.
   */
  outcome: 'initialised' | 'recorded' | 'unchanged';
  keyFileCreated: boolean;
  provenWith?: string;
}

/** Throws what openRepositoryKey throws (`keyFile`, `wrongKey`, storage and KMS errors); writes nothing then. */
export async function runRepositoryInit(config: RuntimeConfig, signal?: AbortSignal): Promise<RepositoryInitReport> {
  const storage = openStorage(config.repository);
  const opened = await openRepositoryKey(storage, config.encryption, { mode: 'write', ...(signal ? { signal } : {}) });
  try {
    const record = opened.record!;
    const outcome = opened.outcome !== 'recorded' ? 'unchanged' : record.provenWith === undefined ? 'initialised' : 'recorded';
    return {
      location: storage.location,
      recordKey: repositoryKeysKey(),
      provider: record.provider,
      keyIds: record.keyIds,
      key: opened.keys.description,
      outcome,
      keyFileCreated: opened.keyFileCreated,
      ...(record.provenWith === undefined ? {} : { provenWith: record.provenWith }),
    };
  } finally {
    opened.keys.close();
  }
}
