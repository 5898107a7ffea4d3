// The corrupt-object scenario's storage overlay: reads pass through to the real repository, except one object,
// whose byte at `offset` is flipped on the way. The repository itself is never touched, so a drill can prove on
// production data that Lifeboat refuses a damaged object (naming it) instead of restoring wrong data.
import { Transform, type Readable } from 'node:stream';
import type { GetOptions, Storage } from '../storage/index.js';

export interface CorruptingStorage extends Storage {
  /** How many reads of the altered object went through the overlay. */
  readonly corruptedReads: number;
}

export function createCorruptingStorage(inner: Storage, key: string, offset: number): CorruptingStorage {
  let corruptedReads = 0;
  const flipAt = (stream: Readable, firstByte: number): Readable => {
    let position = firstByte;
    const flipper = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        if (offset >= position && offset < position + chunk.length) {
          const altered = Buffer.from(chunk);
          altered[offset - position] = altered[offset - position]! ^ 0xff;
          chunk = altered;
        }
        position += chunk.length;
        done(null, chunk);
      },
    });
    stream.on('error', (error) => flipper.destroy(error));
    return stream.pipe(flipper);
  };
  return {
    driver: inner.driver,
    location: inner.location,
    get corruptedReads() {
      return corruptedReads;
    },
    put: (k, body, options) => inner.put(k, body, options),
    head: (k, options) => inner.head(k, options),
    list: (prefix, options) => inner.list(prefix, options),
    delete: (keys, options) => inner.delete(keys, options),
    cleanupIncompleteWrites: (olderThanMs, options) => inner.cleanupIncompleteWrites(olderThanMs, options),
    async get(k: string, options?: GetOptions): Promise<Readable> {
      const stream = await inner.get(k, options);
      if (k !== key) return stream;
      corruptedReads += 1;
      return flipAt(stream, options?.range?.start ?? 0);
    },
  };
}
