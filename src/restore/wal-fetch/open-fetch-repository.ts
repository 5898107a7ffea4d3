// Opens the repository `wal fetch` reads from: the storage driver and a decryption session on the configured
// key. Every secret in the fetch config is registered first, so no log line or error message can carry it.
import { createDecryptionSession, createLocalKeyProvider, loadAwsKmsKeyProvider, type DecryptionSession, type KeyProvider } from '../../crypto/index.js';
import { registerSecret } from '../../log/index.js';
import { createStorage, type Storage } from '../../storage/index.js';
import type { WalFetchConfig } from './wal-fetch-config.js';

/** Storage and keys for reading one cluster's WAL. */
export interface FetchRepository {
  storage: Storage;
  session: DecryptionSession;
  /** Releases the key material and clients. */
  close(): void;
}

function registerCredentials(credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string | undefined } | undefined): void {
  if (credentials === undefined) return;
  registerSecret(credentials.accessKeyId);
  registerSecret(credentials.secretAccessKey);
  if (credentials.sessionToken !== undefined) registerSecret(credentials.sessionToken);
}

/** Opens storage and keys for `config`; the local key file is never created (a new key opens nothing). */
export async function openFetchRepository(config: WalFetchConfig, signal: AbortSignal): Promise<FetchRepository> {
  const { repository, encryption } = config;
  if (repository.driver === 's3') registerCredentials(repository.credentials);
  let keys: KeyProvider;
  if (encryption.provider === 'local') {
    keys = await createLocalKeyProvider({ path: encryption.keyFile });
  } else {
    registerCredentials(encryption.credentials);
    keys = await loadAwsKmsKeyProvider({
      keyId: encryption.keyId,
      region: encryption.region,
      ...(encryption.endpoint === undefined ? {} : { endpoint: encryption.endpoint }),
      ...(encryption.credentials === undefined ? {} : { credentials: encryption.credentials }),
    });
  }
  const session = createDecryptionSession(keys, { expectedScope: { cluster: config.cluster, family: 'wal' }, signal });
  return {
    storage: createStorage(repository),
    session,
    close: () => {
      session.close();
      keys.close();
    },
  };
}
