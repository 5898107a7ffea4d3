// Proves that a key opens an existing object before the repository records it as its key: the object's header
// is read and authenticated, which needs its data key unwrapped by the configured key. Only the first bytes are
// fetched; the body is never decrypted.
import { pipeline } from 'node:stream/promises';
import { createDecryptionSession, type KeyProvider } from '../crypto/index.js';
import type { Storage } from '../storage/index.js';

/** Bytes fetched: far more than a header (encryption context plus a few data key copies) ever takes. */
const HEADER_PROBE_BYTES = 64 * 1024;

/**
 * Resolves once the header of object `key` authenticates with `keys`. Rejects with the LifeboatError the read
 * raised: `wrongKey` (not encrypted for this key), `objectCorrupted`, `kmsUnavailable`, `storageUnavailable`...
 */
export async function proveKeyOpens(storage: Storage, keys: KeyProvider, key: string, signal?: AbortSignal): Promise<void> {
  const session = createDecryptionSession(keys, signal ? { signal } : {});
  const body = await storage.get(key, { range: { start: 0, end: HEADER_PROBE_BYTES - 1 }, ...(signal ? { signal } : {}) });
  const decrypting = session.createDecryptStream({ object: key, ...(signal ? { signal } : {}) });
  // The body past the header is cut short on purpose: the error that causes after the header is of no interest.
  pipeline(body, decrypting.stream).catch(() => undefined);
  decrypting.stream.resume();
  try {
    await decrypting.header;
  } finally {
    body.destroy();
    decrypting.stream.destroy();
    session.close();
  }
}
