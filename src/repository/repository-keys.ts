// The repository's key record (keys.json): which key(s) its objects are encrypted for, by id only (local key
// id, KMS key ARN), written create-only when the repository is initialised. Readable with the bucket or folder
// alone, so a wrong or missing key is named before anything is written or fetched.
import { z } from 'zod';
import type { KeyProviderKind } from '../crypto/index.js';
import { isLifeboatError } from '../errors/index.js';
import { loadJson, repositoryKeysKey, storeJson, type Storage } from '../storage/index.js';

export const repositoryKeysSchema = z.strictObject({
  formatVersion: z.literal(1),
  provider: z.enum(['local', 'aws-kms']),
  /** Local: the 16-hex-digit key id; aws-kms: key ARNs. Any of them opens every object. */
  keyIds: z.array(z.string().min(1)).min(1),
  recordedTime: z.iso.datetime({ offset: true }),
  /**
   * Absent: recorded when the repository was empty. Otherwise the existing object whose data key the key was
   * proven to open before it was recorded (a repository made before the record existed).
   */
  provenWith: z.string().min(1).optional(),
});

export type RepositoryKeys = z.infer<typeof repositoryKeysSchema>;

/** The key record, or undefined when the repository has none (empty, or made before records existed). */
export async function loadRepositoryKeys(storage: Storage, signal?: AbortSignal): Promise<RepositoryKeys | undefined> {
  try {
    return await loadJson(storage, repositoryKeysKey(), repositoryKeysSchema, { signal, maxBytes: 64 * 1024 });
  } catch (error) {
    if (isLifeboatError(error, 'objectNotFound')) return undefined;
    throw error;
  }
}

/** Write `record` create-only; throws `objectExists` when another process recorded a key first. */
export async function storeRepositoryKeys(storage: Storage, record: RepositoryKeys, signal?: AbortSignal): Promise<void> {
  await storeJson(storage, repositoryKeysKey(), repositoryKeysSchema.parse(record), { createOnly: true, ...(signal ? { signal } : {}) });
}

/** True when the configured key (the first of `keyIds`, the one that makes data keys) is one the record names. */
export function recordNamesKey(record: RepositoryKeys, provider: KeyProviderKind, keyIds: readonly string[]): boolean {
  const generator = keyIds[0];
  return record.provider === provider && generator !== undefined && record.keyIds.includes(generator);
}

/** The recorded key(s) for messages: `key id 9eb6...` or `kms key arn:aws:kms:...`. */
export function formatRecordedKeys(record: Pick<RepositoryKeys, 'provider' | 'keyIds'>): string {
  const noun = record.provider === 'local' ? 'key id' : 'kms key';
  return record.keyIds.map((id) => `${noun} ${id}`).join(' or ');
}
