// The first half of reading an object back, shared by readObject (a stream) and readObjectInto (a sink): fetch
// the stored bytes, check their SHA-256 and size, decrypt, and authenticate the header that names the compression.
// What comes after (decompressing, the content checks) differs by reader; the error mapping and cleanup do not.
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CompressionAlgorithm } from '../compress/index.js';
import type { DecryptionSession, EncryptionScope } from '../crypto/index.js';
import type { Storage } from '../storage/storage.js';
import { parseCompressionContext } from './compression-context.js';
import { DigestStream, type DigestCheck } from './digest-stream.js';
import { checkPlaintext, checkStored, mapReadError, type Stage } from './read-object-checks.js';
import { allowSharedSignal } from './shared-signal.js';
import type { ExpectedChecksums } from './stored-object.js';

/** Options for readObject and readObjectInto. */
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

/** One read of one object: tags errors by stage for mapError, and destroys every stream it was given at the end. */
export class ObjectRead {
  private readonly stages = new WeakMap<object, Stage>();
  private readonly streams: { destroy(): unknown }[] = [];

  constructor(readonly options: ReadObjectOptions) {
    allowSharedSignal(options.signal);
  }

  /** Attributes `stream`'s first error to `stage` (when it is not a LifeboatError yet) and destroys it at the end. */
  track(stream: { destroy(): unknown; once?(event: 'error', listener: (error: unknown) => void): unknown }, stage?: Stage): void {
    this.streams.push(stream);
    if (stage === undefined) return;
    stream.once?.('error', (error: unknown) => {
      if (typeof error === 'object' && error !== null && !this.stages.has(error)) this.stages.set(error, stage);
    });
  }

  /** A failure of this read as a LifeboatError naming the key. */
  mapError(error: unknown): Error {
    return mapReadError(error, this.options.key, this.stages, this.options.storage.location);
  }

  /** Nothing may keep reading storage or hold a worker once the read is over, however it ended. */
  destroy(): void {
    for (const stream of this.streams.splice(0)) stream.destroy();
  }
}

export interface OpenedObject {
  /** The decrypted bytes, still compressed with `algorithm`. */
  compressed: Readable;
  algorithm: CompressionAlgorithm;
  /** "object <key>", for the decompressor's errors. */
  description: string;
  /** The check of the content against the record's figures, for whichever stage hashes it. */
  checkContent: DigestCheck;
  /** Settles when the stored bytes were all read, checked and decrypted; await it after the content. */
  upstream: Promise<void>;
}

/** Starts reading `read`'s object and resolves once its header is authenticated. */
export async function openStoredObject(read: ObjectRead): Promise<OpenedObject> {
  const { storage, key, session, expected = {}, expectedScope, signal } = read.options;
  const body = await storage.get(key, { signal });
  read.track(body, 'storage');
  const stored = new DigestStream(checkStored(key, expected));
  const decrypting = session.createDecryptStream({ object: key, expectedScope, signal });
  read.track(stored);
  read.track(decrypting.stream);
  // Two pipelines, because the decompressor can only be chosen once the header is authenticated.
  const upstream = pipeline(body, stored, decrypting.stream, { signal });
  upstream.catch(() => undefined);
  const header = await decrypting.header;
  return {
    compressed: decrypting.stream,
    algorithm: parseCompressionContext(header.encryptionContext, key),
    description: `object ${key}`,
    checkContent: checkPlaintext(key, expected),
    upstream,
  };
}
