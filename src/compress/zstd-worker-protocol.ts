// The messages exchanged with a zstd worker thread (whose code is zstd-worker-source.ts), typed for the pool.
// Every input and output lives in SharedArrayBuffers the streams reuse (see shared-blocks.ts): nothing is
// transferred, and no reply carries a buffer.

/**
 * Compress `input[0, length)` at `level` into one zstd frame written at the start of `output` (at least
 * zstd's compressBound(length) bytes). Both are shared, not transferred: the stream reuses them after the reply.
 */
export interface CompressRequest {
  type: 'compress';
  id: number;
  input: SharedArrayBuffer;
  length: number;
  output: SharedArrayBuffer;
  level: number;
}

/**
 * Feed `input[0, length)` (when present) to decoder `session`; reply with at most `output.byteLength` written to
 * `output`. Both are shared and reused after the reply: the decoder keeps what it has not decoded in its own memory.
 */
export interface DecompressRequest {
  type: 'decompress';
  id: number;
  session: number;
  input?: SharedArrayBuffer;
  length: number;
  output: SharedArrayBuffer;
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

/** A successful answer: the request's `output[0, outputLength)` holds the result (0 for hash and digest). */
export interface DoneReply {
  type: 'done';
  id: number;
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
