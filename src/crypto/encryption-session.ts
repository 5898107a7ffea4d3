// An encryption session: every object of one scope (one backup's base files, one WAL session, one manifest set)
// is encrypted under ONE data key bound to the scope's encryption context, so a backup of thousands of files costs
// one KMS GenerateDataKey. Each object is still its own ESDK message with its own derived key and nonce.
import type { Duplex } from 'node:stream';
import type { NodeEncryptionMaterial, NodeMaterialsManager } from '@aws-crypto/material-management-node';
import { LifeboatError } from '../errors/index.js';
import { destroyOnAbort, raceAbort } from './abort-signal.js';
import { EncryptionKeyCache } from './data-key-cache.js';
import {
  assertObjectContext,
  formatEncryptionContext,
  type EncryptionContext,
  type EncryptionScope,
} from './encryption-context.js';
import { EsdkStreamAdapter } from './esdk-stream-adapter.js';
import { esdkEncrypt, FRAME_LENGTH_BYTES, SUITE_ID } from './esdk-client.js';
import type { KeyProvider, KeyProviderKind } from './key-provider.js';
import { nameObjectInError } from './map-decrypt-error.js';

/** Options for {@link createEncryptionSession}. */
export interface EncryptionSessionOptions {
  scope: EncryptionScope;
  /** Cancels the data key request the session's objects share (e.g. the backup's signal). */
  signal?: AbortSignal;
  /** A data key is replaced after this long. Default 24 h, so one backup normally uses one key. */
  maxDataKeyAgeMs?: number;
  /** A data key is replaced after this many objects. Default 1 000 000. */
  maxObjectsPerDataKey?: number;
}

/** Options for one object. */
export interface EncryptObjectOptions {
  /** The object's storage key, named in errors. */
  object: string;
  /**
   * Authenticated per-object context added to the scope's, e.g. `{ 'lifeboat:compression': 'zstd' }`. Keys must
   * start with `lifeboat:`. Objects with different per-object context use different data keys.
   */
  objectContext?: EncryptionContext;
  /** Cancels this object only. */
  signal?: AbortSignal;
}

/** What is known once the data key is ready, before the first encrypted byte. */
export interface EncryptedObjectHeader {
  /** The key that wraps the data key, to record with the object (aws-kms: the key ARN). */
  keyId: string;
  encryptionContext: EncryptionContext;
}

/** One object being encrypted. */
export interface EncryptingStream {
  /** Write plaintext; read the ESDK message. Errors are LifeboatErrors naming the object. */
  stream: Duplex;
  /** Settles when the data key is ready (or fails); awaiting it is optional. */
  header: Promise<EncryptedObjectHeader>;
}

export interface EncryptionSession {
  readonly provider: KeyProviderKind;
  /** The scope's encryption context (frozen). */
  readonly context: EncryptionContext;
  /** Start encrypting one object. */
  createEncryptStream(options: EncryptObjectOptions): EncryptingStream;
  /** Zero the session's data keys. Streams already running finish; new ones fail. */
  close(): void;
}

const DEFAULT_MAX_AGE_MS = 24 * 60 * 60 * 1000;
const DEFAULT_MAX_OBJECTS = 1_000_000;

/** Start a session for `options.scope` on `provider`. No key is requested until the first object. */
export function createEncryptionSession(provider: KeyProvider, options: EncryptionSessionOptions): EncryptionSession {
  const context = Object.freeze(formatEncryptionContext(options.scope));
  const cache = new EncryptionKeyCache(
    provider,
    { maxAgeMs: options.maxDataKeyAgeMs ?? DEFAULT_MAX_AGE_MS, maxObjects: options.maxObjectsPerDataKey ?? DEFAULT_MAX_OBJECTS },
    { signal: options.signal },
  );

  function createEncryptStream({ object, objectContext = {}, signal }: EncryptObjectOptions): EncryptingStream {
    assertObjectContext(objectContext);
    const abortError = (): LifeboatError =>
      new LifeboatError('aborted', `encrypting object ${object} was aborted`, { hint: 'the operation was cancelled; run it again' });
    // A materials manager per object, so that errors name the object and its signal stops only its own wait.
    const materialsManager: NodeMaterialsManager = {
      getEncryptionMaterials: async (request: Parameters<NodeMaterialsManager['getEncryptionMaterials']>[0]): Promise<NodeEncryptionMaterial> => {
        if (request.suite?.id !== SUITE_ID) {
          throw new LifeboatError('internal', `object ${object} was to be encrypted with algorithm suite ${request.suite?.id}`, {
            hint: 'this is a bug in lifeboat; please report it',
          });
        }
        try {
          return await raceAbort(cache.materialFor(request.suite, request.encryptionContext), signal, abortError);
        } catch (error) {
          throw nameObjectInError(error, 'encrypt', object);
        }
      },
      decryptMaterials: () => Promise.reject(new Error('an encryption session does not decrypt')),
    };
    const inner = esdkEncrypt().encryptStream(materialsManager, {
      suiteId: SUITE_ID,
      encryptionContext: { ...context, ...objectContext },
      frameLength: FRAME_LENGTH_BYTES,
    });
    const stream = new EsdkStreamAdapter(inner, (error) => nameObjectInError(error, 'encrypt', object));
    const header = new Promise<EncryptedObjectHeader>((resolve, reject) => {
      inner.once('MessageHeader', (messageHeader: { encryptedDataKeys: Parameters<KeyProvider['keyIdOf']>[0]; encryptionContext: EncryptionContext }) => {
        resolve({ keyId: provider.keyIdOf(messageHeader.encryptedDataKeys), encryptionContext: messageHeader.encryptionContext });
      });
      stream.once('error', reject);
      stream.once('close', () => reject(abortError()));
    });
    header.catch(() => undefined);
    destroyOnAbort(stream, signal, abortError);
    return { stream, header };
  }

  return {
    provider: provider.kind,
    context,
    createEncryptStream,
    close: () => cache.close(),
  };
}
