// The one entry point for decompressing: picks the stream for an object's recorded algorithm. zstd decodes on
// the worker pool, gzip on libuv's thread pool (node:zlib), and none passes bytes through unchanged.
import { addAbortSignal, PassThrough, type Duplex } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { CompressionAlgorithm } from './compression-options.js';
import { ZLIB_CHUNK_BYTES } from './create-compress-stream.js';
import type { ContentDigest } from './zstd-compress-stream.js';
import { ZstdDecompressStream } from './zstd-decompress-stream.js';

/** Options for {@link createDecompressStream}. */
export interface CreateDecompressStreamOptions {
  algorithm: CompressionAlgorithm;
  /** Aborting destroys the stream with an AbortError. */
  signal?: AbortSignal;
  /** What is being decompressed (an object key), for error messages. */
  description?: string;
}

/**
 * A Duplex that decompresses what is written to it, with bounded memory. zstd errors are LifeboatError
 * `objectCorrupted` naming `description`; gzip errors are zlib's own (callers map them by stage).
 */
export function createDecompressStream(options: CreateDecompressStreamOptions): Duplex {
  const stream: Duplex =
    options.algorithm === 'zstd'
      ? new ZstdDecompressStream({ description: options.description })
      : options.algorithm === 'gzip'
        ? createGunzip({ chunkSize: ZLIB_CHUNK_BYTES })
        : new PassThrough();
  if (options.signal !== undefined) addAbortSignal(options.signal, stream);
  return stream;
}

/**
 * For zstd: a decompress stream that also computes the SHA-256 of the content on the worker that decodes it and
 * calls `verifyContent` with it before ending; an error returned fails the stream instead. Undefined for other
 * algorithms: hash their output downstream instead.
 */
export function createVerifyingDecompressStream(
  options: CreateDecompressStreamOptions & { verifyContent: (digest: ContentDigest) => Error | undefined },
): Duplex | undefined {
  if (options.algorithm !== 'zstd') return undefined;
  const stream = new ZstdDecompressStream({ description: options.description, verifyContent: options.verifyContent });
  if (options.signal !== undefined) addAbortSignal(options.signal, stream);
  return stream;
}
