// Records an object's compression algorithm in its authenticated encryption context, so any object can be read
// back on its own, whatever the configuration says today, and nobody can swap the label without failing
// authentication.
import { isCompressionAlgorithm, type CompressionAlgorithm } from '../compress/index.js';
import type { EncryptionContext } from '../crypto/index.js';
import { LifeboatError } from '../errors/index.js';

/** The context key holding the algorithm. */
export const COMPRESSION_CONTEXT_KEY = 'lifeboat:compression';

/** The per-object context entry for `algorithm`. */
export function formatCompressionContext(algorithm: CompressionAlgorithm): Record<string, string> {
  return { [COMPRESSION_CONTEXT_KEY]: algorithm };
}

/** The algorithm recorded in `context`; LifeboatError `objectCorrupted` naming `key` when missing or unknown. */
export function parseCompressionContext(context: EncryptionContext, key: string): CompressionAlgorithm {
  const value = context[COMPRESSION_CONTEXT_KEY];
  if (isCompressionAlgorithm(value)) return value;
  throw new LifeboatError('objectCorrupted', (
    value === undefined
      ? `object ${key} does not record its compression (no ${COMPRESSION_CONTEXT_KEY} in its encryption context)`
      : `object ${key} records unknown compression "${value}"`
  ), { hint: 'the object was not written by this version of lifeboat; upgrade lifeboat or use another backup' });
}
