// Reads one object back into a sink instead of a stream: the same verified stages as readObject (stored SHA-256,
// decryption, decompression, content SHA-256), but zstd content goes from the decoding worker's shared blocks
// straight to the sink, never copied into this thread. For the bulk readers of a restore (base backup into tar, WAL
// into files), whose memory would otherwise grow with every block read.
import { pipeline } from 'node:stream/promises';
import { createDecompressStream, decompressZstdInto, type ChunkSink } from '../compress/index.js';
import { DigestStream } from './digest-stream.js';
import { ObjectRead, openStoredObject, type ReadObjectOptions } from './open-stored-object.js';

/**
 * Writes the content of object `key` to `sink`, chunk after chunk (each awaited; see ChunkSink for what a chunk may
 * be used for), and resolves with its size once every check passed. Rejects like readObject's stream fails, with a
 * LifeboatError naming the key; the sink's own errors pass through. The content checks come after the last chunk:
 * write into something you can throw away (a temp file, as writeFileAtomic does) until this resolves.
 */
export async function readObjectInto(options: ReadObjectOptions, sink: ChunkSink): Promise<number> {
  const { signal } = options;
  const read = new ObjectRead(options);
  let sinkFailure: { error: unknown } | undefined;
  const guardedSink: ChunkSink = async (chunk) => {
    try {
      await sink(chunk);
    } catch (error) {
      sinkFailure = { error };
      throw error;
    }
  };
  try {
    const { compressed, algorithm, description, checkContent, upstream } = await openStoredObject(read);
    let sizeBytes = 0;
    if (algorithm === 'zstd') {
      sizeBytes = await decompressZstdInto(compressed, guardedSink, { description, signal, verifyContent: ({ sha256, sizeBytes: size }) => checkContent(sha256, size) });
    } else {
      const decompress = createDecompressStream({ algorithm, description, signal });
      read.track(decompress, 'decompress');
      const plaintext = new DigestStream(checkContent);
      read.track(plaintext);
      const downstream = pipeline(compressed, decompress, plaintext, { signal });
      downstream.catch(() => undefined);
      for await (const chunk of plaintext) {
        await guardedSink(chunk as Buffer);
        sizeBytes += (chunk as Buffer).length;
      }
      await downstream;
    }
    await upstream;
    return sizeBytes;
  } catch (error) {
    if (sinkFailure !== undefined && sinkFailure.error === error) throw error;
    throw read.mapError(error);
  } finally {
    // Also runs when the sink fails.
    read.destroy();
  }
}
