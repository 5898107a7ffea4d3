// The compression capability: stream factories for zstd (parallel, on worker threads), gzip and none, plus the
// controls of the shared zstd worker pool.
export { blockSourceToReadable, isBlockSource, type BlockSource } from './block-source.js';
export {
  COMPRESSION_ALGORITHMS,
  DEFAULT_COMPRESSION_LEVELS,
  isCompressionAlgorithm,
  resolveCompressionLevel,
  type CompressionAlgorithm,
  type CompressionOptions,
} from './compression-options.js';
export {
  createCompressStream,
  createHashingCompressStream,
  type CreateCompressStreamOptions,
  type HashingCompressStream,
} from './create-compress-stream.js';
export { DEFAULT_ZSTD_BLOCK_BYTES, type ContentDigest } from './zstd-compress-stream.js';
export { createDecompressStream, createVerifyingDecompressStream, type CreateDecompressStreamOptions } from './create-decompress-stream.js';
export { decompressZstdInto, type ChunkSink, type DecompressZstdIntoOptions } from './zstd-decompress-into.js';
export { configureZstdPool, shutdownZstdPool, zstdThreadCount, type ZstdPoolOptions } from './zstd-worker-pool.js';
