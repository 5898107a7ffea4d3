// Reads one object back: storage.get -> SHA-256 of stored bytes -> decrypt -> decompress (algorithm taken from
// the authenticated header) -> SHA-256 of content, streamed with bounded memory. With expected checksums the
// stream fails at its end, instead of ending, when either checksum or size differs, naming the key and the check.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createDecompressStream, createVerifyingDecompressStream } from '../compress/index.js';
import type { DecryptionSession, EncryptionScope } from '../crypto/index.js';
import { isLifeboatError, LifeboatError } from '../errors/index.js';
import type { Storage } from '../storage/storage.js';
import { parseCompressionContext } from './compression-context.js';
import { DigestStream, type DigestCheck } from './digest-stream.js';
import { allowSharedSignal } from './shared-signal.js';
import type { ExpectedChecksums } from './stored-object.js';

/** Options for {@link readObject}. */
export interface ReadObjectOptions {
  storage: Storage;
  key: string;
  /** Decrypts with the repository's key provider, sharing data keys across objects. */
  session: DecryptionSession;
  /** Figures from the object's record (manifest) to verify; checked as the stream ends. */
  expected?: ExpectedChecksums;
  /** Scope the object must belong to, e.g. `{ family: 'base', backupId }`. */
  expectedScope?: Partial<EncryptionScope>;
  signal?: AbortSignal;
}

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

/**
 * A stream of the content of object `key`. Nothing happens until it is read. It fails (never just ends early)
 * with LifeboatError: `objectNotFound`, `objectCorrupted` (authentication, checksum, context or compressed data),
 * `objectTruncated`, `wrongKey`, `kmsUnavailable`, `storageUnavailable` or `aborted`, each naming the key.
 */
export function readObject(options: ReadObjectOptions): Readable {
  return Readable.from(readChunks(options), { objectMode: false, highWaterMark: 1024 * 1024 });
}

async function* readChunks(options: ReadObjectOptions): AsyncGenerator<Buffer> {
  const { storage, key, session, expected = {}, expectedScope, signal } = options;
  allowSharedSignal(signal);
  const stages = new WeakMap<object, Stage>();
  const tag = (stage: Stage) => (error: unknown) => {
    if (typeof error === 'object' && error !== null && !stages.has(error)) stages.set(error, stage);
  };
  const cleanup: { destroy(): unknown }[] = [];
  try {
    const body = await storage.get(key, { signal });
    cleanup.push(body);
    body.once('error', tag('storage'));
    const stored = new DigestStream(checkStored(key, expected));
    const decrypting = session.createDecryptStream({ object: key, expectedScope, signal });
    cleanup.push(stored, decrypting.stream);
    // Two pipelines, because the decompressor can only be chosen once the header is authenticated.
    const upstream = pipeline(body, stored, decrypting.stream, { signal });
    upstream.catch(() => undefined);
    const header = await decrypting.header;
    const algorithm = parseCompressionContext(header.encryptionContext, key);
    const description = `object ${key}`;
    // zstd hashes the content on the worker that decodes it; other algorithms get a hashing stage after it.
    const check = checkPlaintext(key, expected);
    const verifying = createVerifyingDecompressStream({ algorithm, description, signal, verifyContent: ({ sha256, sizeBytes }) => check(sha256, sizeBytes) });
    const decompress = verifying ?? createDecompressStream({ algorithm, description, signal });
    decompress.once('error', tag('decompress'));
    const plaintext = verifying === undefined ? new DigestStream(check) : undefined;
    cleanup.push(decompress, ...(plaintext === undefined ? [] : [plaintext]));
    const downstream = pipeline(plaintext === undefined ? [decrypting.stream, decompress] : [decrypting.stream, decompress, plaintext], { signal });
    downstream.catch(() => undefined);
    for await (const chunk of plaintext ?? decompress) yield chunk as Buffer;
    await Promise.all([upstream, downstream]);
  } catch (error) {
    throw mapReadError(error, key, stages, storage.location);
  } finally {
    // Also runs when the reader stops early: nothing may keep reading storage or hold a worker.
    for (const stream of cleanup) stream.destroy();
  }
}
