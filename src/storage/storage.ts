// The repository storage contract that every driver (fs, s3) implements and the conformance suite checks.
// Drivers implement only these raw operations; behaviour shared by all drivers lives above them.
import type { Readable } from 'node:stream';

/** One stored object as listed. */
export interface ObjectInfo {
  /** Key relative to the repository root (never includes the driver's prefix or folder). */
  key: string;
  sizeBytes: number;
  lastModified: Date;
}

export interface PutOptions {
  /**
   * Create-only: fail with LifeboatError `objectExists` when the key already exists, and never overwrite it,
   * even when two writers race (fs: link(); s3: If-None-Match: *). Default false (overwrite atomically).
   */
  createOnly?: boolean;
  signal?: AbortSignal;
}

export interface PutResult {
  key: string;
  sizeBytes: number;
}

export interface GetOptions {
  /**
   * Inclusive byte range; default the whole object. An `end` past the object's end is clamped to it; a `start`
   * at or past the end throws LifeboatError `objectTruncated` (the object is shorter than the caller expects).
   */
  range?: { start: number; end: number };
  signal?: AbortSignal;
}

export interface Storage {
  /** Which driver this is. */
  readonly driver: 'fs' | 's3';
  /** Human-readable location for messages, e.g. `s3://bucket/prefix/` or `/var/lib/lifeboat/repo`. */
  readonly location: string;

  /**
   * Store `body` at `key`, streaming with bounded memory. Atomic: readers see the whole object or nothing; a
   * failed or aborted put leaves no visible object (and, on S3, no multipart upload left running).
   * Rejects with LifeboatError `aborted` when `signal` fires before the final commit step (an abort after it is
   * too late and the put succeeds), `objectExists` for create-only conflicts, `storageUnavailable` when the
   * store fails; an error of the body stream itself is rethrown unchanged. The body is consumed (and destroyed
   * on failure or abort) by the put.
   */
  put(key: string, body: Readable | Uint8Array, options?: PutOptions): Promise<PutResult>;
  /**
   * Stream the object. Throws LifeboatError `objectNotFound` (naming the key) when it does not exist. When
   * `signal` fires, the returned stream is destroyed with an AbortError.
   */
  get(key: string, options?: GetOptions): Promise<Readable>;
  /** Size and date of the object, or undefined when it does not exist. */
  head(key: string, options?: { signal?: AbortSignal }): Promise<ObjectInfo | undefined>;
  /**
   * Every object whose key starts with `prefix`, in lexicographic order of the keys' UTF-8 bytes (S3's
   * order), paginated lazily: stopping the iteration stops the requests. A prefix may end mid-segment.
   * A prefix with nothing under it lists as empty, never an error.
   */
  list(prefix: string, options?: { signal?: AbortSignal }): AsyncIterable<ObjectInfo>;
  /** Delete the keys; keys that do not exist are ignored. Batched by the driver. */
  delete(keys: readonly string[], options?: { signal?: AbortSignal }): Promise<void>;
  /**
   * Remove leftovers of interrupted writes older than `olderThanMs` (fs temp files, S3 multipart uploads
   * under the repository prefix). Returns how many were removed. A write still running when it is older than
   * the threshold is broken by this, so use a threshold well above the longest write (e.g. a day).
   */
  cleanupIncompleteWrites(olderThanMs: number, options?: { signal?: AbortSignal }): Promise<number>;
}
