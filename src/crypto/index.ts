// The crypto capability: key providers (local key file, AWS KMS), and encryption/decryption sessions that stream
// objects through the AWS Encryption SDK with one data key per backup.
export { SUITE_ID, FRAME_LENGTH_BYTES, MAX_ENCRYPTED_DATA_KEYS } from './esdk-client.js';
export {
  CONTEXT_PREFIX,
  SCOPE_CONTEXT_KEYS,
  formatEncryptionContext,
  type EncryptionContext,
  type EncryptionScope,
  type ObjectFamily,
} from './encryption-context.js';
export type { KeyProvider, KeyProviderKind, DataKeyRequest } from './key-provider.js';
export { loadLocalKeyFile, parseLocalKey, formatLocalKeyId, LOCAL_KEY_BYTES, type LocalKeyFileOptions } from './local-key-file.js';
export {
  createLocalKeyProvider,
  createLocalKeyProviderFromKey,
  LOCAL_KEY_NAMESPACE,
  type LocalKeyProviderOptions,
} from './local-key-provider.js';
// KMS is loaded on demand: the index must not import the AWS SDK (see aws-kms.ts, the entry that does).
export { loadAwsKmsKeyProvider } from './load-aws-kms-key-provider.js';
export type { AwsKmsKeyProviderOptions } from './aws-kms-key-provider.js';
export type { KmsConnectionOptions, KmsCredentials } from './kms-client.js';
export type { KmsOperation } from './map-kms-error.js';
export {
  createEncryptionSession,
  type EncryptionSession,
  type EncryptionSessionOptions,
  type EncryptObjectOptions,
  type EncryptingStream,
  type EncryptedObjectHeader,
} from './encryption-session.js';
export {
  createDecryptionSession,
  type DecryptionSession,
  type DecryptionSessionOptions,
  type DecryptObjectOptions,
  type DecryptingStream,
  type DecryptedObjectHeader,
} from './decryption-session.js';
