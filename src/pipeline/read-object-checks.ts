// The checks every read of a stored object makes (stored bytes and content against the object's record) and the
// mapping of a failure to a LifeboatError naming the object and the stage that failed.
import { isLifeboatError, LifeboatError } from '../errors/index.js';
import type { DigestCheck } from './digest-stream.js';
import type { ExpectedChecksums } from './stored-object.js';

/** Which stage raised an error that is not a LifeboatError yet, for mapping it. */
export type Stage = 'storage' | 'decompress';

/** The check of the stored bytes against `expected` (size, SHA-256), for a DigestStream. */
export function checkStored(key: string, expected: ExpectedChecksums): DigestCheck {
  return (sha256, sizeBytes) => {
    const want = expected.storedSizeBytes;
    if (want !== undefined && sizeBytes < want) {
      return new LifeboatError('objectTruncated', `object ${key} is truncated: ${sizeBytes} bytes stored, its record says ${want}`, {
        hint: 'the upload was cut short or the stored copy lost its end; use another copy or backup',
      });
    }
    if (want !== undefined && sizeBytes !== want) {
      return new LifeboatError('objectCorrupted', `object ${key} has ${sizeBytes} bytes stored, its record says ${want}`, {
        hint: 'the stored copy was replaced or damaged; use another copy or backup',
      });
    }
    if (expected.storedSha256 !== undefined && sha256 !== expected.storedSha256) {
      return new LifeboatError('objectCorrupted', `object ${key} fails its stored checksum: sha256 ${sha256}, its record says ${expected.storedSha256}`, {
        hint: 'the stored copy is damaged; use another copy (replica region) or backup, and run verify on the repository',
      });
    }
    return undefined;
  };
}

/** The check of the content against `expected` (size, SHA-256). */
export function checkPlaintext(key: string, expected: ExpectedChecksums): DigestCheck {
  return (sha256, sizeBytes) => {
    if (expected.plaintextSizeBytes !== undefined && sizeBytes !== expected.plaintextSizeBytes) {
      return new LifeboatError('objectCorrupted', `object ${key} decodes to ${sizeBytes} bytes, its record says ${expected.plaintextSizeBytes}`, {
        hint: 'the object does not match its manifest entry; use another backup',
      });
    }
    if (expected.plaintextSha256 !== undefined && sha256 !== expected.plaintextSha256) {
      return new LifeboatError('objectCorrupted', `object ${key} fails its content checksum: sha256 ${sha256}, its record says ${expected.plaintextSha256}`, {
        hint: 'the object does not match its manifest entry; use another backup',
      });
    }
    return undefined;
  };
}

/** A read failure as a LifeboatError naming `key`, by the stage (tagged in `stages`) that raised it. */
export function mapReadError(error: unknown, key: string, stages: WeakMap<object, Stage>, location: string): Error {
  if (isLifeboatError(error)) return error;
  if (error instanceof Error && error.name === 'AbortError') {
    return new LifeboatError('aborted', `reading object ${key} was aborted`, { hint: 'the operation was cancelled; run it again', cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  const stage = typeof error === 'object' && error !== null ? stages.get(error) : undefined;
  if (stage === 'storage') {
    return new LifeboatError('storageUnavailable', `reading object ${key} from ${location} failed: ${message}`, {
      hint: 'check that the repository is reachable, then retry',
      cause: error,
    });
  }
  if (stage === 'decompress') {
    return new LifeboatError('objectCorrupted', `the compressed data of object ${key} is invalid: ${message}`, {
      hint: 'the object was damaged before encryption or written by a broken version; use another backup',
      cause: error,
    });
  }
  return new LifeboatError('internal', `reading object ${key} failed: ${message}`, { hint: 'this is a bug in lifeboat; please report it', cause: error });
}
