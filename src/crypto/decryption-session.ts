// A decryption session: reads objects of any scope with one provider, caching decrypted data keys so that a
// restore makes one KMS Decrypt per data key (one per backup), not one per object. It refuses every suite but
// Lifeboat's, checks each object's authenticated encryption context against what the caller expects, and maps
// every failure to a LifeboatError naming the object.
import type { Duplex } from 'node:stream';
import type { NodeDecryptionMaterial, NodeMaterialsManager } from '@aws-crypto/material-management-node';
import { LifeboatError } from '../errors/index.js';
import { destroyOnAbort, raceAbort } from './abort-signal.js';
import { DecryptionKeyCache } from './data-key-cache.js';
import {
  findContextMismatch,
  formatEncryptionContext,
  type EncryptionContext,
  type EncryptionScope,
} from './encryption-context.js';
import { EsdkStreamAdapter } from './esdk-stream-adapter.js';
import { esdkDecrypt, MAX_FRAME_LENGTH_BYTES, SUITE_ID } from './esdk-client.js';
import type { KeyProvider, KeyProviderKind } from './key-provider.js';
import { mapDecryptError, nameObjectInError } from './map-decrypt-error.js';

/** Options for {@link createDecryptionSession}. */
export interface DecryptionSessionOptions {
  /** Scope every object must belong to (e.g. `{ cluster }`); per-object expectations add to it. */
  expectedScope?: Partial<EncryptionScope>;
  /** Cancels the shared KMS requests (e.g. the restore's signal). */
  signal?: AbortSignal;
  /** Decrypted data keys kept at most (least recently used go first). Default 256. */
  maxCachedDataKeys?: number;
  /** A cached data key is decrypted again after this long. Default 24 h. */
  maxDataKeyAgeMs?: number;
}

/** Options for one object. */
export interface DecryptObjectOptions {
  /** The object's storage key, named in errors. */
  object: string;
  /** Scope this object must belong to, on top of the session's (e.g. `{ family: 'base', backupId }`). */
  expectedScope?: Partial<EncryptionScope>;
  /** Cancels this object only. */
  signal?: AbortSignal;
}

/** The authenticated header of an object being read. */
export interface DecryptedObjectHeader {
  /** The whole encryption context, including per-object entries such as `lifeboat:compression`. */
  encryptionContext: EncryptionContext;
  provider: KeyProviderKind;
  /** The key that wrapped the data key (aws-kms: the key ARN). */
  keyId: string;
}

/** One object being decrypted. */
export interface DecryptingStream {
  /** Write the stored message; read plaintext, released frame by frame only after each frame authenticates. */
  stream: Duplex;
  /** Resolves once the header is authenticated and matches expectations, before any plaintext. */
  header: Promise<DecryptedObjectHeader>;
}

export interface DecryptionSession {
  readonly provider: KeyProviderKind;
  createDecryptStream(options: DecryptObjectOptions): DecryptingStream;
  /** Zero the cached data keys; new streams fail. */
  close(): void;
}

const DEFAULT_MAX_CACHED_KEYS = 256;
const DEFAULT_MAX_AGE_MS = 24 * 60 * 60 * 1000;

/** Start a session reading with `provider`. */
export function createDecryptionSession(provider: KeyProvider, options: DecryptionSessionOptions = {}): DecryptionSession {
  const sessionExpected = formatEncryptionContext(options.expectedScope ?? {});
  const cache = new DecryptionKeyCache(
    provider,
    { maxEntries: options.maxCachedDataKeys ?? DEFAULT_MAX_CACHED_KEYS, maxAgeMs: options.maxDataKeyAgeMs ?? DEFAULT_MAX_AGE_MS },
    { signal: options.signal },
  );

  function createDecryptStream({ object, expectedScope = {}, signal }: DecryptObjectOptions): DecryptingStream {
    const expected = { ...sessionExpected, ...formatEncryptionContext(expectedScope) };
    const abortError = (): LifeboatError =>
      new LifeboatError('aborted', `reading object ${object} was aborted`, { hint: 'the operation was cancelled; run it again' });
    let keyId = provider.keyId;
    const materialsManager: NodeMaterialsManager = {
      getEncryptionMaterials: () => Promise.reject(new Error('a decryption session does not encrypt')),
      decryptMaterials: async (request: Parameters<NodeMaterialsManager['decryptMaterials']>[0]): Promise<NodeDecryptionMaterial> => {
        // The commitment and signature policies already allow only this suite; checked again because it is cheap.
        if (request.suite.id !== SUITE_ID) {
          throw new LifeboatError('objectCorrupted', `object ${object} uses algorithm suite ${request.suite.id}, not lifeboat's`, {
            hint: 'the object was not written by lifeboat or its header is damaged; use another copy or backup',
          });
        }
        try {
          keyId = provider.keyIdOf(request.encryptedDataKeys);
          return await raceAbort(cache.materialFor(request.suite, request.encryptionContext, request.encryptedDataKeys), signal, abortError);
        } catch (error) {
          throw nameObjectInError(error, 'decrypt', object);
        }
      },
    };
    const inner = esdkDecrypt().decryptUnsignedMessageStream(materialsManager, { maxBodySize: MAX_FRAME_LENGTH_BYTES });
    const stream = new EsdkStreamAdapter(inner, (error) => mapDecryptError(error, object));
    const header = new Promise<DecryptedObjectHeader>((resolve, reject) => {
      // Emitted after the header's tag is verified and before any frame is processed: the check runs in time.
      inner.once('MessageHeader', (messageHeader: { encryptionContext: EncryptionContext }) => {
        const mismatch = findContextMismatch(messageHeader.encryptionContext, expected);
        if (mismatch !== undefined) {
          stream.fail(new LifeboatError('objectCorrupted', (
            `object ${object} belongs elsewhere: its encryption context has ${mismatch.key}=${mismatch.actual ?? '(none)'}, ` +
            `expected ${mismatch.expected}`
          ), { hint: 'the object was copied or moved from another backup or cluster; check the repository and its manifest' }));
          return;
        }
        resolve({ encryptionContext: messageHeader.encryptionContext, provider: provider.kind, keyId });
      });
      stream.once('error', reject);
      stream.once('close', () => reject(abortError()));
    });
    header.catch(() => undefined);
    destroyOnAbort(stream, signal, abortError);
    return { stream, header };
  }

  return { provider: provider.kind, createDecryptStream, close: () => cache.close() };
}
