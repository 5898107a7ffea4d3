// The one entry point for compressing: picks the stream for the configured algorithm. zstd runs on the worker
// pool; gzip uses node:zlib, which already runs on libuv's thread pool; none passes bytes through unchanged.
import { addAbortSignal, PassThrough, type Duplex } from 'node:stream';
import { createGzip } from 'node:zlib';
import { resolveCompressionLevel, type CompressionOptions } from './compression-options.js';
import { ZstdCompressStream } from './zstd-compress-stream.js';

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
