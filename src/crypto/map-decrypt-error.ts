// Classifies how reading an encrypted object failed, from the errors the ESDK raises: a cut-off message
// (objectTruncated), failed authentication or a malformed message (objectCorrupted). Errors already mapped
// (wrong key, KMS unreachable) pass through with the object named.
import { isLifeboatError, LifeboatError } from '../errors/index.js';

/** `error` from a provider or cache, with "cannot <verb> object <object>: " in front of its message. */
export function nameObjectInError(error: unknown, verb: 'encrypt' | 'decrypt', object: string): LifeboatError {
  if (isLifeboatError(error)) {
    if (error.message.includes(`object ${object}`)) return error;
    return new LifeboatError(error.code, `cannot ${verb} object ${object}: ${error.message}`, { hint: error.hint, cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new LifeboatError('internal', `cannot ${verb} object ${object}: ${message}`, {
    hint: 'this is a bug in lifeboat or the encryption sdk; please report it',
    cause: error,
  });
}

/** The LifeboatError for an error raised while decrypting `object`. */
export function mapDecryptError(error: unknown, object: string): LifeboatError {
  if (isLifeboatError(error)) return nameObjectInError(error, 'decrypt', object);
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof Error && error.name === 'AbortError') {
    return new LifeboatError('aborted', `reading object ${object} was aborted`, { hint: 'the operation was cancelled; run it again', cause: error });
  }
  // The ESDK's words for a stream that ended early: in the header, or before the final frame's tag.
  if (message === 'Incomplete Header' || message === 'Incomplete message') {
    const where = message === 'Incomplete Header' ? 'its header' : 'its final frame';
    return new LifeboatError('objectTruncated', `object ${object} is truncated: it ends before ${where}`, {
      hint: 'the write was interrupted or the stored copy lost its end; use another copy or backup',
      cause: error,
    });
  }
  // Node's GCM decipher error: a tag did not match, so some byte of the header or a frame was altered.
  if (/unable to authenticate data/i.test(message)) {
    return new LifeboatError('objectCorrupted', `object ${object} failed authentication: its bytes were altered after it was written`, {
      hint: 'the stored copy is damaged; use another copy (replica region) or backup, and run verify on the repository',
      cause: error,
    });
  }
  return new LifeboatError('objectCorrupted', `object ${object} is not a valid encrypted lifeboat object: ${message}`, {
    hint: 'the stored copy is damaged or was not written by lifeboat; use another copy or backup',
    cause: error,
  });
}
