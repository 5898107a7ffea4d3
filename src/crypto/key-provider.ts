// The KeyProvider contract: where data keys come from and how they are wrapped. `local` wraps with a 256-bit key
// file (AES-GCM), `aws-kms` asks KMS. Sessions (encryption-session.ts, decryption-session.ts) sit above it, so a
// provider only ever sees one data key request per session, never one per object.
import type { EncryptedDataKey, NodeDecryptionMaterial, NodeEncryptionMaterial } from '@aws-crypto/material-management-node';

/** Which kind of key protects the data keys. */
export type KeyProviderKind = 'local' | 'aws-kms';

/** Context of one data key request. */
export interface DataKeyRequest {
  /** Cancels remote calls (KMS); rejects with LifeboatError `aborted`. */
  signal?: AbortSignal;
}

export interface KeyProvider {
  readonly kind: KeyProviderKind;
  /**
   * The configured wrapping key: local, its key id (16 hex digits derived from the key); aws-kms, the generator
   * key id, alias or ARN as configured.
   */
  readonly keyId: string;
  /** Where the key lives, for messages, e.g. `key file /etc/lifeboat/repo.key (key id 3f1c...)`. */
  readonly description: string;
  /**
   * Fill `material` with a new data key and its encrypted copies. Throws LifeboatError (`kmsUnavailable`,
   * `aborted`, ...) whose message does not name an object: the session adds that.
   */
  generateDataKey(material: NodeEncryptionMaterial, request: DataKeyRequest): Promise<NodeEncryptionMaterial>;
  /**
   * Recover the data key of an object from its encrypted copies into `material`. Throws LifeboatError `wrongKey`
   * (no copy is wrapped by this provider's key), `objectCorrupted` (a copy is ours but does not open) or
   * `kmsUnavailable`/`aborted`, with messages that do not name the object.
   */
  unwrapDataKey(
    material: NodeDecryptionMaterial,
    encryptedDataKeys: readonly EncryptedDataKey[],
    request: DataKeyRequest,
  ): Promise<NodeDecryptionMaterial>;
  /**
   * The ids a repository records as the key(s) it is encrypted for: local, the key id; aws-kms, the key ARN of
   * the generator key, then of each additional key (an alias or bare id is resolved with one DescribeKey, cached).
   * Throws LifeboatError `kmsUnavailable`/`aborted` when KMS cannot be asked.
   */
  resolveKeyIds(request: DataKeyRequest): Promise<readonly string[]>;
  /** The key id to record for an object whose data key copies are `encryptedDataKeys` (aws-kms: the key ARN). */
  keyIdOf(encryptedDataKeys: readonly EncryptedDataKey[]): string;
  /** Release clients and forget key material. The provider must not be used afterwards. */
  close(): void;
}
