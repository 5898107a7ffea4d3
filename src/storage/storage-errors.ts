// The LifeboatErrors every storage driver throws for the same situations, built in one place so the fs and
// s3 drivers word them identically: each names the key and the repository location, and says what to do.
import { LifeboatError } from '../errors/index.js';

/** `objectNotFound` for `key` in the repository at `location`. */
export function objectNotFoundError(key: string, location: string, cause?: unknown): LifeboatError {
  return new LifeboatError('objectNotFound', `object "${key}" does not exist in ${location}`, {
    hint: 'check the repository settings (path, or bucket and prefix) and the backup or WAL name asked for',
    cause,
  });
}

/** `objectExists`: a create-only put found `key` already stored. */
export function objectExistsError(key: string, location: string, cause?: unknown): LifeboatError {
  return new LifeboatError('objectExists', `object "${key}" already exists in ${location}`, {
    hint: 'objects in a repository are never overwritten; if another lifeboat wrote it, compare checksums before retrying',
    cause,
  });
}

/** `objectTruncated`: a ranged read starts at or past the end of the object. */
export function rangeBeyondEndError(key: string, location: string, start: number, cause?: unknown): LifeboatError {
  return new LifeboatError('objectTruncated', `object "${key}" in ${location} ends before byte ${start}`, {
    hint: 'the object is shorter than its manifest or header says: it was damaged or cut short; verify the backup',
    cause,
  });
}

/** `aborted`: `operation` on `key` stopped because its AbortSignal fired. */
export function abortedError(operation: string, key: string, location: string, cause?: unknown): LifeboatError {
  return new LifeboatError('aborted', `${operation} of "${key}" in ${location} was aborted`, {
    hint: 'the operation was cancelled (shutdown or timeout); nothing was left half-written, so it is safe to retry',
    cause,
  });
}

/** True for the errors Node streams, fetch and the AWS SDK raise when an AbortSignal fires. */
export function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}
