// Opens the aws-kms key provider, loading its modules (the KMS SDK client and keyring) only now; see aws-kms.ts.
import type { AwsKmsKeyProviderOptions } from './aws-kms-key-provider.js';
import type { KeyProvider } from './key-provider.js';

/** createAwsKmsKeyProvider behind a dynamic import; same options, same errors. */
export async function loadAwsKmsKeyProvider(options: AwsKmsKeyProviderOptions): Promise<KeyProvider> {
  const { createAwsKmsKeyProvider } = await import('./aws-kms-key-provider.js');
  return createAwsKmsKeyProvider(options);
}
