// Opens the configured repository: the storage driver and the key provider. Writers may create the local key
// on first use; readers never do (a new key could only produce "wrong key" errors on a restore).
import type { RuntimeConfig, RuntimeEncryption } from '../config/index.js';
import { createLocalKeyProvider, loadAwsKmsKeyProvider, type KeyProvider } from '../crypto/index.js';
import { openStorage, type Storage } from '../storage/index.js';

export interface Repository {
  storage: Storage;
  keys: KeyProvider;
  /** Release the key provider's clients and key material. */
  close(): void;
}

export async function openKeyProvider(encryption: RuntimeEncryption, mode: 'write' | 'read'): Promise<KeyProvider> {
  if (encryption.provider === 'local') {
    return createLocalKeyProvider({ path: encryption.keyFile, createIfMissing: mode === 'write' });
  }
  const credentials = encryption.credentials;
  return loadAwsKmsKeyProvider({
    keyId: encryption.keyId,
    region: encryption.region,
    ...(encryption.endpoint ? { endpoint: encryption.endpoint } : {}),
    ...(credentials
      ? {
          credentials: {
            accessKeyId: credentials.accessKeyId.reveal(),
            secretAccessKey: credentials.secretAccessKey.reveal(),
            ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken.reveal() } : {}),
          },
        }
      : {}),
  });
}

/** Open storage and keys for `mode`: `write` for backups and archiving, `read` for restore, verify and listing. */
export async function openRepository(config: RuntimeConfig, mode: 'write' | 'read'): Promise<Repository> {
  const storage = openStorage(config.repository);
  const keys = await openKeyProvider(config.encryption, mode);
  return { storage, keys, close: () => keys.close() };
}
