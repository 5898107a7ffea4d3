// Reads one object back into a sink instead of a stream: the same verified stages as readObject (stored SHA-256,
// decryption, decompression, content SHA-256), but zstd content goes from the decoding worker's shared blocks
// straight to the sink, never copied into this thread. For the bulk readers of a restore (base backup into tar, WAL
// into files), whose memory would otherwise grow with every block read.
import { pipeline } from 'node:stream/promises';
import { createDecompressStream, decompressZstdInto, type ChunkSink } from '../compress/index.js';
import { parseCompressionContext } from './compression-context.js';
import { DigestStream } from './digest-stream.js';
import { allowSharedSignal } from './shared-signal.js';
import { checkPlaintext, checkStored, mapReadError, type ReadObjectOptions, type Stage } from './read-object.js';

/**
 * Writes the content of object `key` to `sink`, chunk after chunk (each awaited; see ChunkSink for what a chunk may
 * be used for), and resolves with its size once every check passed. Rejects like readObject's stream fails, with a
 * LifeboatError naming the key; the sink's own errors pass through. The content checks come after the last chunk:
 * write into something you can throw away (a temp file, as writeFileAtomic does) until this resolves.
 */
export async function readObjectInto(options: ReadObjectOptions, sink: ChunkSink): Promise<number> {
  const { storage, key, session, expected = {}, expectedScope, signal } = options;
  allowSharedSignal(signal);
  const stages = new WeakMap<object, Stage>();
  const tag = (stage: Stage) => (error: unknown) => {
    if (typeof error === 'object' && error !== null && !stages.has(error)) stages.set(error, stage);
  };
  const cleanup: { destroy(): unknown }[] = [];
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
    const body = await storage.get(key, { signal });
    cleanup.push(body);
    body.once('error', tag('storage'));
    const stored = new DigestStream(checkStored(key, expected));
    const decrypting = session.createDecryptStream({ object: key, expectedScope, signal });
    cleanup.push(stored, decrypting.stream);
    const upstream = pipeline(body, stored, decrypting.stream, { signal });
    upstream.catch(() => undefined);
    const header = await decrypting.header;
    const algorithm = parseCompressionContext(header.encryptionContext, key);
    const description = `object ${key}`;
    const check = checkPlaintext(key, expected);
    let sizeBytes = 0;
    if (algorithm === 'zstd') {
      sizeBytes = await decompressZstdInto(decrypting.stream, guardedSink, { description, signal, verifyContent: ({ sha256, sizeBytes: size }) => check(sha256, size) });
    } else {
      const decompress = createDecompressStream({ algorithm, description, signal });
      decompress.once('error', tag('decompress'));
      const plaintext = new DigestStream(check);
      cleanup.push(decompress, plaintext);
      const downstream = pipeline(decrypting.stream, decompress, plaintext, { signal });
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
    throw mapReadError(error, key, stages, storage.location);
  } finally {
    // Also runs when the sink fails: nothing may keep reading storage or hold a worker.
    for (const stream of cleanup) stream.destroy();
  }
}
