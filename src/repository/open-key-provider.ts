// Builds the configured key provider: the local key file (created only when the caller says the repository is
// empty, see open-repository-key.ts) or AWS KMS with the configured credentials.
import type { RuntimeEncryption } from '../config/index.js';
import { createLocalKeyProvider, loadAwsKmsKeyProvider, type KeyProvider } from '../crypto/index.js';

/** The provider of `encryption`; `createKeyFile` creates a missing local key file (mode 0600, random key). */
export async function openKeyProvider(encryption: RuntimeEncryption, createKeyFile: boolean): Promise<KeyProvider> {
  if (encryption.provider === 'local') {
    return createLocalKeyProvider({ path: encryption.keyFile, createIfMissing: createKeyFile });
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
