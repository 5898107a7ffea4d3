// Reads one object back: storage.get -> SHA-256 of stored bytes -> decrypt -> decompress (algorithm taken from
// the authenticated header) -> SHA-256 of content, streamed with bounded memory. With expected checksums the
// stream fails at its end, instead of ending, when either checksum or size differs, naming the key and the check.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createDecompressStream, createVerifyingDecompressStream } from '../compress/index.js';
import { DigestStream } from './digest-stream.js';
import { ObjectRead, openStoredObject, type ReadObjectOptions } from './open-stored-object.js';

export type { ReadObjectOptions } from './open-stored-object.js';

/**
 * A stream of the content of object `key`. Nothing happens until it is read. It fails (never just ends early)
 * with LifeboatError: `objectNotFound`, `objectCorrupted` (authentication, checksum, context or compressed data),
 * `objectTruncated`, `wrongKey`, `kmsUnavailable`, `storageUnavailable` or `aborted`, each naming the key.
 */
export function readObject(options: ReadObjectOptions): Readable {
  return Readable.from(readChunks(options), { objectMode: false, highWaterMark: 1024 * 1024 });
}

async function* readChunks(options: ReadObjectOptions): AsyncGenerator<Buffer> {
  const { signal } = options;
  const read = new ObjectRead(options);
  try {
    const { compressed, algorithm, description, checkContent, upstream } = await openStoredObject(read);
    // zstd hashes the content on the worker that decodes it; other algorithms get a hashing stage after it.
    const verifying = createVerifyingDecompressStream({ algorithm, description, signal, verifyContent: ({ sha256, sizeBytes }) => checkContent(sha256, sizeBytes) });
    const decompress = verifying ?? createDecompressStream({ algorithm, description, signal });
    read.track(decompress, 'decompress');
    const plaintext = verifying === undefined ? new DigestStream(checkContent) : undefined;
    if (plaintext !== undefined) read.track(plaintext);
    const downstream = pipeline(plaintext === undefined ? [compressed, decompress] : [compressed, decompress, plaintext], { signal });
    downstream.catch(() => undefined);
    for await (const chunk of plaintext ?? decompress) yield chunk as Buffer;
    await Promise.all([upstream, downstream]);
  } catch (error) {
    throw read.mapError(error);
  } finally {
    // Also runs when the reader stops early.
    read.destroy();
  }
}
