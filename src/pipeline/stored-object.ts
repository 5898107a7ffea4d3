// The record of one stored object: its two checksums (content and bytes as stored), sizes, and the compression
// and key it was written with. Manifests carry these records; read back from storage they are untrusted input,
// so the schema here parses them at that boundary.
import { z } from 'zod';
import { COMPRESSION_ALGORITHMS, type CompressionAlgorithm } from '../compress/index.js';
import type { KeyProviderKind } from '../crypto/index.js';

/** What writeObject stored at `key`. */
export interface StoredObject {
  /** Storage key, relative to the repository root. */
  key: string;
  /** Bytes of the original content. */
  plaintextSizeBytes: number;
  /** Bytes as stored (compressed, then encrypted). */
  storedSizeBytes: number;
  /** SHA-256 of the original content, lowercase hex. */
  plaintextSha256: string;
  /** SHA-256 of the stored bytes, lowercase hex: verifiable without the key. */
  storedSha256: string;
  compression: { algorithm: CompressionAlgorithm; level: number };
  /** The key provider and the key that wraps the object's data key (aws-kms: the key ARN). */
  encryption: { provider: KeyProviderKind; keyId: string };
}

/** The checks readObject can make at the end of the stream; any subset of a StoredObject's figures. */
export type ExpectedChecksums = Partial<Pick<StoredObject, 'plaintextSha256' | 'storedSha256' | 'plaintextSizeBytes' | 'storedSizeBytes'>>;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha-256');
const sizeBytes = z.number().int().nonnegative();

/** Parses a StoredObject read from a manifest. */
export const storedObjectSchema = z.object({
  key: z.string().min(1),
  plaintextSizeBytes: sizeBytes,
  storedSizeBytes: sizeBytes,
  plaintextSha256: sha256Hex,
  storedSha256: sha256Hex,
  compression: z.object({ algorithm: z.enum(COMPRESSION_ALGORITHMS as [CompressionAlgorithm, ...CompressionAlgorithm[]]), level: z.number().int() }),
  encryption: z.object({ provider: z.enum(['local', 'aws-kms']), keyId: z.string().min(1) }),
}) satisfies z.ZodType<StoredObject>;
