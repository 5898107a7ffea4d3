// Decodes a zstd stream on the worker pool straight into a sink: each decoded block is handed over as a view of the
// shared block the worker wrote, and the block is reused only once the sink has written it. Decoded bytes are never
// copied into this thread's buffers, so a restore's memory stays flat however much it extracts (the Duplex in
// zstd-decompress-stream.ts copies every block out, and those copies pile up until the collector runs).
import { LifeboatError } from '../errors/index.js';
import { returnSharedBlock, takeSharedBlock } from './shared-blocks.js';
import type { ContentDigest } from './zstd-compress-stream.js';
import { acquireZstdPool, ZstdWorkerError } from './zstd-worker-pool.js';
import type { DoneReply } from './zstd-worker-protocol.js';

/**
 * Takes one decoded chunk: a view of a shared block that is overwritten once the returned promise settles, so it
 * must be written out (or copied) before then and never kept.
 */
export type ChunkSink = (chunk: Uint8Array) => Promise<void>;

/** Options for {@link decompressZstdInto}. */
export interface DecompressZstdIntoOptions {
  /** What is being decompressed (an object key), for error messages. */
  description?: string;
  /** Checks the SHA-256 (computed on the worker) and size of the decoded content; an error returned is thrown. */
  verifyContent?: (digest: ContentDigest) => Error | undefined;
  /** Compressed bytes per round trip to the worker. Default 1 MiB. */
  inputBatchBytes?: number;
  /** Decoded bytes per block handed to the sink, at most. Default 1 MiB. */
  outputBlockBytes?: number;
  signal?: AbortSignal;
}

function corrupted(description: string, what: string, cause?: unknown): LifeboatError {
  return new LifeboatError('objectCorrupted', `the compressed data of ${description} ${what}`, {
    hint: 'the object was written incompletely or with another format, or damaged before encryption; use another copy or backup',
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Decodes the zstd stream `source` (one frame or many) into `sink`, in order, one block at a time: while the sink
 * writes a block the worker decodes the next. Resolves with the decoded size once everything is written (and
 * verified). Throws LifeboatError `objectCorrupted` for data that is not zstd, is truncated or fails the check;
 * the sink's and the source's own errors pass through.
 */
export async function decompressZstdInto(source: AsyncIterable<Uint8Array>, sink: ChunkSink, options: DecompressZstdIntoOptions = {}): Promise<number> {
  const description = options.description ?? 'data';
  const inputBatchBytes = options.inputBatchBytes ?? 1024 * 1024;
  const outputBlockBytes = options.outputBlockBytes ?? 1024 * 1024;
  const { signal } = options;
  const lease = acquireZstdPool();
  const { pool } = lease;
  const session = pool.openSession();
  let sessionOpen = true;
  const owner = {};
  const batch = takeSharedBlock(inputBatchBytes);
  let current = takeSharedBlock(outputBlockBytes);
  let spare = takeSharedBlock(outputBlockBytes);
  // A block a worker may still write into must never go back to the free list (a failure can leave one in flight).
  let inFlight = 0;
  let batchBytes = 0;
  let sawInput = false;
  let inFrame = false;
  let hashRequested = false;
  let decodedBytes = 0;

  const request = (input: SharedArrayBuffer | undefined, length: number, output: SharedArrayBuffer): Promise<DoneReply> => {
    const hash = options.verifyContent !== undefined && !hashRequested;
    hashRequested = true;
    inFlight++;
    return pool.decompress(owner, session, input, length, output, hash).finally(() => inFlight--);
  };

  // Writes what the worker decoded into `current`, asking for the rest (into `spare`) meanwhile, until it holds none.
  const deliver = async (first: DoneReply): Promise<void> => {
    let reply = first;
    for (;;) {
      inFrame = reply.inFrame === true;
      const next = reply.drained === true ? undefined : request(undefined, 0, spare);
      next?.catch(() => undefined);
      if (reply.outputLength > 0) {
        signal?.throwIfAborted();
        await sink(Buffer.from(current, 0, reply.outputLength));
        decodedBytes += reply.outputLength;
      }
      if (next === undefined) return;
      reply = await next;
      [current, spare] = [spare, current];
    }
  };

  const sendBatch = async (): Promise<void> => {
    const length = batchBytes;
    batchBytes = 0;
    await deliver(await request(batch, length, current));
  };

  try {
    try {
      for await (const chunk of source) {
        signal?.throwIfAborted();
        for (let offset = 0; offset < chunk.length; ) {
          const taken = Math.min(chunk.length - offset, inputBatchBytes - batchBytes);
          new Uint8Array(batch, batchBytes, taken).set(chunk.subarray(offset, offset + taken));
          batchBytes += taken;
          offset += taken;
          sawInput = true;
          if (batchBytes === inputBatchBytes) await sendBatch();
        }
      }
      if (batchBytes > 0) await sendBatch();
      if (!sawInput) throw corrupted(description, 'is empty, not a zstd stream');
      if (inFrame) throw corrupted(description, 'ends inside a zstd frame');
      if (options.verifyContent !== undefined) {
        sessionOpen = false;
        const sha256 = await pool.digest(owner, session);
        const failure = options.verifyContent({ sha256, sizeBytes: decodedBytes });
        if (failure !== undefined) throw failure;
      }
    } catch (error) {
      if (error instanceof ZstdWorkerError && error.kind === 'failed') throw corrupted(description, `is not valid zstd: ${error.message}`, error);
      if (error instanceof ZstdWorkerError) {
        throw new LifeboatError('internal', `zstd decompression of ${description} failed: ${error.message}`, {
          hint: 'a decompression worker thread died (out of memory?); retry, and report it if it repeats',
          cause: error,
        });
      }
      throw error;
    }
    return decodedBytes;
  } finally {
    if (sessionOpen) pool.releaseSession(session);
    if (inFlight === 0) for (const block of [batch, current, spare]) returnSharedBlock(block);
    lease.release();
  }
}
