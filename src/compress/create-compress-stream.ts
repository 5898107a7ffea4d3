// The one entry point for compressing: picks the stream for the configured algorithm. zstd runs on the worker
// pool; gzip uses node:zlib, which already runs on libuv's thread pool; none passes bytes through unchanged.
import { addAbortSignal, PassThrough, type Duplex } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { BlockSource } from './block-source.js';
import { resolveCompressionLevel, type CompressionOptions } from './compression-options.js';
import { ZstdCompressStream, type ContentDigest } from './zstd-compress-stream.js';

/** Options for {@link createCompressStream}. */
export interface CreateCompressStreamOptions extends CompressionOptions {
  /** Aborting destroys the stream with an AbortError (and frees its worker slots). */
  signal?: AbortSignal;
  /** What is being compressed (an object key), for error messages. */
  description?: string;
}

/** zlib's output chunk size; larger than its 16 KiB default so that downstream stages see fewer, bigger chunks. */
export const ZLIB_CHUNK_BYTES = 128 * 1024;

/**
 * A Duplex that compresses what is written to it. Backpressure-correct with bounded memory; throws LifeboatError
 * `config` for a level out of range. zstd output is a sequence of independent frames, readable by any zstd decoder.
 */
export function createCompressStream(options: CreateCompressStreamOptions): Duplex {
  const level = resolveCompressionLevel(options);
  const stream: Duplex =
    options.algorithm === 'zstd'
      ? new ZstdCompressStream({ level, description: options.description })
      : options.algorithm === 'gzip'
        ? createGzip({ level, chunkSize: ZLIB_CHUNK_BYTES })
        : new PassThrough();
  if (options.signal !== undefined) addAbortSignal(options.signal, stream);
  return stream;
}

/** A compress stream that also hashes what it compresses; see {@link createHashingCompressStream}. */
export interface HashingCompressStream {
  stream: Duplex;
  /** The content's SHA-256 and size, once the stream has ended. */
  contentDigest(): ContentDigest;
}

/**
 * For zstd: a compress stream that also computes the SHA-256 of the content on the worker pool, from the blocks it
 * compresses (no second pass over the content on the event loop). Undefined for algorithms that cannot: hash the
 * content before compressing it instead.
 */
export function createHashingCompressStream(
  options: CreateCompressStreamOptions & {
    /** Read the content from here, straight into the compressor's blocks; the stream is then only a Readable. */
    source?: BlockSource;
  },
): HashingCompressStream | undefined {
  if (options.algorithm !== 'zstd') return undefined;
  const stream = new ZstdCompressStream({ level: resolveCompressionLevel(options), description: options.description, hashContent: true, source: options.source });
  if (options.signal !== undefined) addAbortSignal(options.signal, stream);
  return { stream, contentDigest: () => stream.contentDigest() };
}
