// A Storage decorator that can be switched into an outage: while failing, every call is refused with
// LifeboatError `storageUnavailable`, the error a real driver reports for an unreachable store. Counts the
// writes it let through, so a test can prove that nothing was uploaded during (or after) some event.
import type { Readable } from 'node:stream';
import { LifeboatError } from '../../src/errors/index.js';
import type { GetOptions, ObjectInfo, PutOptions, PutResult, Storage } from '../../src/storage/index.js';

export interface FaultyStorage extends Storage {
  /** Start (true) or end (false) the outage. */
  setFailing(failing: boolean): void;
  /** Keys successfully put, in order. */
  readonly putKeys: readonly string[];
}

function outage(operation: string, key: string): LifeboatError {
  return new LifeboatError('storageUnavailable', `injected outage: ${operation} ${key} refused`, { hint: 'a test switched the repository off' });
}

export function createFaultyStorage(inner: Storage): FaultyStorage {
  let failing = false;
  const putKeys: string[] = [];
  return {
    driver: inner.driver,
    location: inner.location,
    putKeys,
    setFailing(value: boolean) {
      failing = value;
    },
    async put(key: string, body: Readable | Uint8Array, options?: PutOptions): Promise<PutResult> {
      if (failing) {
        // The contract: the body is consumed or destroyed by the put.
        if (!(body instanceof Uint8Array)) body.destroy();
        throw outage('put', key);
      }
      const result = await inner.put(key, body, options);
      putKeys.push(key);
      return result;
    },
    async get(key: string, options?: GetOptions): Promise<Readable> {
      if (failing) throw outage('get', key);
      return inner.get(key, options);
    },
    async head(key: string, options?: { signal?: AbortSignal }): Promise<ObjectInfo | undefined> {
      if (failing) throw outage('head', key);
      return inner.head(key, options);
    },
    async *list(prefix: string, options?: { signal?: AbortSignal }): AsyncIterable<ObjectInfo> {
      if (failing) throw outage('list', prefix);
      yield* inner.list(prefix, options);
    },
    async delete(keys: readonly string[], options?: { signal?: AbortSignal }): Promise<void> {
      if (failing) throw outage('delete', keys.join(', '));
      return inner.delete(keys, options);
    },
    cleanupIncompleteWrites(olderThanMs: number, options?: { signal?: AbortSignal }): Promise<number> {
      if (failing) throw outage('cleanup', '');
      return inner.cleanupIncompleteWrites(olderThanMs, options);
    },
  };
}
