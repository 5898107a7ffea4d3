// Stores one object: content -> SHA-256 -> compress -> encrypt -> SHA-256 of stored bytes -> storage.put, all
// streamed with bounded memory, and returns the record a manifest keeps. Either the whole object is stored and
// described, or the call fails and storage holds nothing new (put is atomic and is aborted on any failure).
import type { Duplex, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  blockSourceToReadable,
  createCompressStream,
  createHashingCompressStream,
  isBlockSource,
  resolveCompressionLevel,
  type BlockSource,
  type CompressionAlgorithm,
  type CompressionOptions,
  type ContentDigest,
} from '../compress/index.js';
import type { EncryptionSession } from '../crypto/index.js';
import { isLifeboatError, LifeboatError } from '../errors/index.js';
import type { Storage } from '../storage/storage.js';
import { formatCompressionContext } from './compression-context.js';
import { DigestStream } from './digest-stream.js';
import { allowSharedSignal } from './shared-signal.js';
import type { StoredObject } from './stored-object.js';

/** Options for {@link writeObject}. */
export interface WriteObjectOptions {
  storage: Storage;
  /** Storage key of the new object. */
  key: string;
  /**
   * The content: a stream, consumed to its end (or destroyed when the write fails), or a block source (e.g.
   * {@link fileSource}), read straight into the compressor's memory and closed when the write is over.
   */
  source: Readable | BlockSource;
  compression: CompressionOptions;
  /** The session of the object's scope (one data key per backup). */
  session: EncryptionSession;
  /** Fail with `objectExists` instead of replacing an existing object. Default false. */
  createOnly?: boolean;
  signal?: AbortSignal;
}

/**
 * The stages that read, hash and compress the content, and its digest once they are done. zstd hashes on the
 * worker pool from the blocks it compresses (and reads a block source straight into them); other algorithms get a
 * hashing stage in front.
 */
function contentStages(
  source: Readable | BlockSource,
  algorithm: CompressionAlgorithm,
  level: number,
  key: string,
): { stages: (Readable | Duplex)[]; contentDigest(): ContentDigest } {
  const hashing = createHashingCompressStream({ algorithm, level, description: key, source: isBlockSource(source) ? source : undefined });
  if (hashing !== undefined) {
    return { stages: isBlockSource(source) ? [hashing.stream] : [source, hashing.stream], contentDigest: hashing.contentDigest };
  }
  const plaintext = new DigestStream();
  return {
    stages: [isBlockSource(source) ? blockSourceToReadable(source) : source, plaintext, createCompressStream({ algorithm, level, description: key })],
    contentDigest: () => ({ sha256: plaintext.sha256, sizeBytes: plaintext.sizeBytes }),
  };
}

/**
 * The source with its failures remembered: they are the caller's own and are handed back unchanged. For a block
 * source, the error its read threw; for a stream, the error it was destroyed with.
 */
function trackSource(source: Readable | BlockSource): { source: Readable | BlockSource; isSourceError(error: unknown): boolean; release(): Promise<void> } {
  if (!isBlockSource(source)) {
    return {
      source,
      isSourceError: (error) => error instanceof Error && error === source.errored,
      release: async () => {
        source.destroy();
      },
    };
  }
  const failures = new WeakSet<object>();
  return {
    source: {
      readInto: (target) =>
        source.readInto(target).catch((error: unknown) => {
          // Recorded as thrown; a thrown non-object becomes the Error that is recorded and handed back.
          const failure = typeof error === 'object' && error !== null ? error : new Error(String(error));
          failures.add(failure);
          throw failure;
        }),
      close: () => source.close(),
    },
    isSourceError: (error) => typeof error === 'object' && error !== null && failures.has(error),
    release: () => source.close(),
  };
}

/**
 * Compress, encrypt and store `source` at `key`; resolves with the object's record once the object is durable.
 * Errors: the source's own errors unchanged; LifeboatError from the key provider, storage (`objectExists`,
 * `storageUnavailable`, ...) or `aborted` when `signal` fires.
 */
export async function writeObject(options: WriteObjectOptions): Promise<StoredObject> {
  const tracked = trackSource(options.source);
  try {
    return await storeObject(options, tracked);
  } finally {
    // A stream source is done with (ended or destroyed) by now; a block source is closed here, whatever happened.
    await tracked.release().catch(() => undefined);
  }
}

async function storeObject(options: WriteObjectOptions, tracked: ReturnType<typeof trackSource>): Promise<StoredObject> {
  const { storage, key, session, createOnly = false, signal } = options;
  allowSharedSignal(signal);
  const algorithm = options.compression.algorithm;
  const level = resolveCompressionLevel(options.compression);
  // One controller stops both halves: the stages feeding the put, and the put itself. Whichever half fails first
  // stops the other at once; a put that gives up without reading its body would otherwise stall the stages.
  const controller = new AbortController();
  const stop = (): void => controller.abort(signal?.reason);
  if (signal?.aborted === true) stop();
  else signal?.addEventListener('abort', stop, { once: true });

  const content = contentStages(tracked.source, algorithm, level, key);
  const stored = new DigestStream();
  const encrypting = session.createEncryptStream({ object: key, objectContext: formatCompressionContext(algorithm), signal: controller.signal });
  const stages = pipeline(
    [...content.stages, encrypting.stream, stored],
    { signal: controller.signal },
  );
  const putting = storage.put(key, stored, { createOnly, signal: controller.signal });
  // The failure to report is the first one: the other half then fails only because it was stopped (as an
  // AbortError or as an `aborted` LifeboatError, depending on which stream noticed first).
  let firstFailure: { error: unknown } | undefined;
  const stopOnFailure = <T>(promise: Promise<T>): Promise<T> =>
    promise.catch((error: unknown) => {
      firstFailure ??= { error };
      stop();
      throw error;
    });
  const [staged, put] = await Promise.allSettled([stopOnFailure(stages), stopOnFailure(putting)]);
  signal?.removeEventListener('abort', stop);

  if (staged.status === 'rejected' || put.status === 'rejected') {
    if (signal?.aborted === true) {
      throw new LifeboatError('aborted', `writing object ${key} was aborted`, {
        hint: 'the operation was cancelled; nothing was stored, so it is safe to retry',
        cause: signal.reason,
      });
    }
    const error = firstFailure?.error ?? (staged.status === 'rejected' ? staged.reason : put.status === 'rejected' ? put.reason : undefined);
    // The source's errors are the caller's own: hand them back unchanged.
    if (isLifeboatError(error) || tracked.isSourceError(error)) throw error;
    throw new LifeboatError('internal', `writing object ${key} failed: ${error instanceof Error ? error.message : String(error)}`, {
      hint: 'this is a bug in lifeboat; please report it',
      cause: error,
    });
  }
  if (put.value.sizeBytes !== stored.sizeBytes) {
    throw new LifeboatError('internal', `storage reported ${put.value.sizeBytes} bytes for object ${key}, but ${stored.sizeBytes} were written`, {
      hint: 'this is a bug in the storage driver; please report it',
    });
  }
  const header = await encrypting.header;
  const digest = content.contentDigest();
  return {
    key,
    plaintextSizeBytes: digest.sizeBytes,
    storedSizeBytes: stored.sizeBytes,
    plaintextSha256: digest.sha256,
    storedSha256: stored.sha256,
    compression: { algorithm, level },
    encryption: { provider: session.provider, keyId: header.keyId },
  };
}
