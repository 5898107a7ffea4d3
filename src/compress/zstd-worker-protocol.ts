// The messages exchanged with a zstd worker thread (whose code is zstd-worker-source.ts), typed for the pool.
// Blocks to compress live in SharedArrayBuffers the stream reuses; other buffers travel as transferred
// ArrayBuffers. Either way no block is copied between threads.

/**
 * Compress `input[0, length)` at `level` into one zstd frame. `input` is shared, not transferred: the stream reuses
 * it after the reply, so the main thread does not allocate (and garbage-collect) a fresh 4 MiB per block.
 */
export interface CompressRequest {
  type: 'compress';
  id: number;
  input: SharedArrayBuffer;
  length: number;
  level: number;
}

/** Feed `input[0, length)` (when present) to decoder `session`; reply with at most `maxOutputBytes`. */
export interface DecompressRequest {
  type: 'decompress';
  id: number;
  session: number;
  input?: ArrayBuffer;
  length: number;
  maxOutputBytes: number;
  /** On a session's first request: also keep the SHA-256 of the decoded output (see DigestRequest). */
  hash?: boolean;
}

/** Add `input[0, length)` (shared, reused after the reply) to the SHA-256 of hash session `session`. */
export interface HashRequest {
  type: 'hash';
  id: number;
  session: number;
  input: SharedArrayBuffer;
  length: number;
}

/** Finish hash (or hashing decoder) session `session`: the reply carries `digest`; the session is gone afterwards. */
export interface DigestRequest {
  type: 'digest';
  id: number;
  session: number;
}

/** Forget decoder or hash `session`. Not answered. */
export interface ReleaseRequest {
  type: 'release';
  id: number;
  session: number;
}

export type WorkerRequest = CompressRequest | DecompressRequest | HashRequest | DigestRequest | ReleaseRequest;

/** A successful answer: `output[0, outputLength)` is the result (hash and digest replies carry no output). */
export interface DoneReply {
  type: 'done';
  id: number;
  output?: ArrayBuffer;
  outputLength: number;
  /** Digest only: the SHA-256 in lowercase hex. */
  digest?: string;
  /** Decompress only: all fed input consumed and flushed. */
  drained?: boolean;
  /** Decompress only: the last frame is still open. */
  inFrame?: boolean;
}

/** The worker caught an error handling request `id` (bad data, out of memory); it keeps running. */
export interface FailedReply {
  type: 'failed';
  id: number;
  message: string;
}

export type WorkerReply = DoneReply | FailedReply;
