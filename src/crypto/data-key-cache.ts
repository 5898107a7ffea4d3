// The per-session data key caches that make encryption cost one KMS call per backup instead of one per object.
// Writing: one data key per distinct context, reused for every object until an age or count limit (concurrent
// first writes share one request). Reading: decrypted data keys by (context, encrypted copies), LRU-bounded.
// Each message gets its own copy of the key material, because the ESDK zeroes it after every message.
import { createHash } from 'node:crypto';
import {
  NodeDecryptionMaterial,
  NodeEncryptionMaterial,
  type EncryptedDataKey,
  type EncryptionContext,
  type NodeAlgorithmSuite,
} from '@aws-crypto/material-management-node';
import { LifeboatError } from '../errors/index.js';
import { canonicalContext } from './encryption-context.js';
import type { DataKeyRequest, KeyProvider } from './key-provider.js';

/** Limits on how long and how much one data key is used for writing. */
export interface DataKeyLimits {
  /** Replace the data key after this long. */
  maxAgeMs: number;
  /** Replace the data key after encrypting this many objects. */
  maxObjects: number;
}

interface CachedEncryptionKey {
  material: NodeEncryptionMaterial;
  createdAtMs: number;
  objects: number;
}

type DataKey = ReturnType<NodeEncryptionMaterial['getUnencryptedDataKey']>;

/** A private copy of a data key (KeyObjects are immutable and shared; byte arrays are copied). */
function copyDataKey(dataKey: DataKey): DataKey {
  return dataKey instanceof Uint8Array ? new Uint8Array(dataKey) : dataKey;
}

/** A fresh material for one message, holding a copy of `source`'s key and the same encrypted copies. */
function copyEncryptionMaterial(source: NodeEncryptionMaterial): NodeEncryptionMaterial {
  const copy = new NodeEncryptionMaterial(source.suite, source.encryptionContext);
  const [generated, ...wrapped] = source.keyringTrace;
  if (generated === undefined || wrapped.length !== source.encryptedDataKeys.length) {
    throw new LifeboatError('internal', 'a cached data key has an inconsistent keyring trace', { hint: 'this is a bug in lifeboat; please report it' });
  }
  copy.setUnencryptedDataKey(copyDataKey(source.getUnencryptedDataKey()), generated);
  source.encryptedDataKeys.forEach((edk, index) => {
    const trace = wrapped[index];
    if (trace !== undefined) copy.addEncryptedDataKey(edk, trace.flags);
  });
  return copy;
}

function copyDecryptionMaterial(source: NodeDecryptionMaterial): NodeDecryptionMaterial {
  const copy = new NodeDecryptionMaterial(source.suite, source.encryptionContext);
  const [decrypted] = source.keyringTrace;
  if (decrypted === undefined) {
    throw new LifeboatError('internal', 'a cached data key has no keyring trace', { hint: 'this is a bug in lifeboat; please report it' });
  }
  return copy.setUnencryptedDataKey(copyDataKey(source.getUnencryptedDataKey()), decrypted);
}

/** Data keys for writing, one per distinct encryption context. */
export class EncryptionKeyCache {
  private readonly entries = new Map<string, Promise<CachedEncryptionKey>>();
  private closed = false;

  constructor(
    private readonly provider: KeyProvider,
    private readonly limits: DataKeyLimits,
    /** Cancels the shared KMS request; per-object signals only stop waiting for it. */
    private readonly request: DataKeyRequest,
  ) {}

  /** A material for one message with context `context`, generating a data key only when none is usable. */
  async materialFor(suite: NodeAlgorithmSuite, context: EncryptionContext): Promise<NodeEncryptionMaterial> {
    const cacheKey = canonicalContext(context);
    for (;;) {
      if (this.closed) throw new LifeboatError('internal', 'the encryption session is closed', { hint: 'this is a bug in lifeboat; please report it' });
      let entry = this.entries.get(cacheKey);
      if (entry === undefined) {
        entry = this.provider
          .generateDataKey(new NodeEncryptionMaterial(suite, context), this.request)
          .then((material) => ({ material, createdAtMs: Date.now(), objects: 0 }));
        this.entries.set(cacheKey, entry);
        const created = entry;
        // A failed request is forgotten, so the next object tries again instead of inheriting the failure.
        created.catch(() => {
          if (this.entries.get(cacheKey) === created) this.entries.delete(cacheKey);
        });
      }
      const cached = await entry;
      const fresh = Date.now() - cached.createdAtMs <= this.limits.maxAgeMs && cached.objects < this.limits.maxObjects;
      if (fresh && cached.material.hasValidKey()) {
        cached.objects++;
        return copyEncryptionMaterial(cached.material);
      }
      // Expired: retire it (once, even if several writers noticed) and loop to generate its successor.
      if (this.entries.get(cacheKey) === entry) {
        this.entries.delete(cacheKey);
        cached.material.zeroUnencryptedDataKey();
      }
    }
  }

  /** Zero every cached data key; later requests throw. */
  close(): void {
    this.closed = true;
    for (const entry of this.entries.values()) {
      entry.then((cached) => cached.material.zeroUnencryptedDataKey(), () => undefined);
    }
    this.entries.clear();
  }
}

/** Options of {@link DecryptionKeyCache}. */
export interface DecryptionKeyCacheLimits {
  /** Data keys kept at most; the least recently used goes first. */
  maxEntries: number;
  /** Age after which a cached data key is decrypted again. */
  maxAgeMs: number;
}

/** Decrypted data keys for reading, so every object of one backup costs one unwrap (one KMS Decrypt) in total. */
export class DecryptionKeyCache {
  private readonly entries = new Map<string, Promise<{ material: NodeDecryptionMaterial; createdAtMs: number }>>();
  private closed = false;

  constructor(
    private readonly provider: KeyProvider,
    private readonly limits: DecryptionKeyCacheLimits,
    private readonly request: DataKeyRequest,
  ) {}

  /** A material holding the data key of a message with this suite, context and encrypted copies. */
  async materialFor(
    suite: NodeAlgorithmSuite,
    context: EncryptionContext,
    encryptedDataKeys: readonly EncryptedDataKey[],
  ): Promise<NodeDecryptionMaterial> {
    if (this.closed) throw new LifeboatError('internal', 'the decryption session is closed', { hint: 'this is a bug in lifeboat; please report it' });
    const hash = createHash('sha256').update(`${suite.id}\n${canonicalContext(context)}\n`);
    for (const edk of encryptedDataKeys) hash.update(`${edk.providerId}\n${edk.providerInfo}\n`).update(edk.encryptedDataKey).update('\n');
    const cacheKey = hash.digest('hex');

    let entry = this.entries.get(cacheKey);
    if (entry !== undefined) {
      const cached = await entry;
      if (Date.now() - cached.createdAtMs <= this.limits.maxAgeMs && cached.material.hasValidKey()) {
        // Re-insert: Map order is the LRU order.
        if (this.entries.get(cacheKey) === entry) {
          this.entries.delete(cacheKey);
          this.entries.set(cacheKey, entry);
        }
        return copyDecryptionMaterial(cached.material);
      }
      if (this.entries.get(cacheKey) === entry) this.entries.delete(cacheKey);
    }
    entry = this.provider
      .unwrapDataKey(new NodeDecryptionMaterial(suite, context), encryptedDataKeys, this.request)
      .then((material) => ({ material, createdAtMs: Date.now() }));
    this.entries.set(cacheKey, entry);
    const created = entry;
    created.catch(() => {
      if (this.entries.get(cacheKey) === created) this.entries.delete(cacheKey);
    });
    // Evicted keys are not zeroed: a reader may be about to copy one; the collector frees them.
    while (this.entries.size > this.limits.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    return copyDecryptionMaterial((await created).material);
  }

  /** Zero every cached data key; later requests throw. */
  close(): void {
    this.closed = true;
    for (const entry of this.entries.values()) {
      entry.then((cached) => cached.material.zeroUnencryptedDataKey(), () => undefined);
    }
    this.entries.clear();
  }
}
