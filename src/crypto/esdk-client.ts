// The AWS Encryption SDK configured the one way Lifeboat uses it: the unsigned key-committing suite, frames of
// 1 MiB, commitment required on both sides, and a cap on data keys per message. Nothing else may build a client.
// The encrypt and decrypt packages, not @aws-crypto/client-node: that one also loads every keyring, the KMS keyring's
// AWS SDK clients (KMS, DynamoDB) among them, which the local key never needs (see aws-kms.ts for KMS).
import { createRequire } from 'node:module';
import type { buildDecrypt } from '@aws-crypto/decrypt-node';
import type { buildEncrypt } from '@aws-crypto/encrypt-node';
import { AlgorithmSuiteIdentifier, CommitmentPolicy } from '@aws-crypto/material-management-node';

/**
 * AES-256-GCM with HKDF-SHA512 and key commitment, without ECDSA signatures: signatures would cost a P-384 sign
 * per object and add nothing, since only holders of the data key can write objects anyway.
 */
export const SUITE_ID = AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY;

/** Plaintext bytes per ESDK frame. 1 MiB measured ~10x faster than the 4 KiB default (fewer cipher setups). */
export const FRAME_LENGTH_BYTES = 1024 * 1024;

/** Reading refuses frames larger than this, bounding memory (each frame is buffered until its tag is checked). */
export const MAX_FRAME_LENGTH_BYTES = 4 * FRAME_LENGTH_BYTES;

/** Encrypted data keys per message, at most: one per configured KMS key (multi-region) with room to spare. */
export const MAX_ENCRYPTED_DATA_KEYS = 10;

const clientOptions = { commitmentPolicy: CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT, maxEncryptedDataKeys: MAX_ENCRYPTED_DATA_KEYS };
const require = createRequire(import.meta.url);
let encryptClient: ReturnType<typeof buildEncrypt> | undefined;
let decryptClient: ReturnType<typeof buildDecrypt> | undefined;

/** The SDK's encrypting side (encryptStream), built on first use: a restore or `wal fetch` only decrypts. */
export function esdkEncrypt(): ReturnType<typeof buildEncrypt> {
  encryptClient ??= (require('@aws-crypto/encrypt-node') as { buildEncrypt: typeof buildEncrypt }).buildEncrypt(clientOptions);
  return encryptClient;
}

/** The SDK's decrypting side (decryptUnsignedMessageStream, which refuses signed suites), built on first use. */
export function esdkDecrypt(): ReturnType<typeof buildDecrypt> {
  decryptClient ??= (require('@aws-crypto/decrypt-node') as { buildDecrypt: typeof buildDecrypt }).buildDecrypt(clientOptions);
  return decryptClient;
}
