// The s3 driver behind a lazy import: options are checked now (bad ones fail at once, as before), the AWS SDK is
// loaded on the first storage call. A process on an fs repository never loads it, and one on S3 only once.
import { resolveS3StorageOptions, type S3StorageOptions } from './s3-storage-options.js';
import type { Storage } from './storage.js';

/** Creates the s3 driver. No request is made, and no AWS SDK module loaded, until the first call. */
export function createS3Storage(options: S3StorageOptions): Storage {
  const { location } = resolveS3StorageOptions(options);
  let driver: Promise<Storage> | undefined;
  const load = (): Promise<Storage> => (driver ??= import('./s3-storage.js').then((module) => module.createS3Driver(options)));
  return {
    driver: 's3',
    location,
    put: async (key, body, putOptions) => (await load()).put(key, body, putOptions),
    get: async (key, getOptions) => (await load()).get(key, getOptions),
    head: async (key, headOptions) => (await load()).head(key, headOptions),
    async *list(prefix, listOptions) {
      yield* (await load()).list(prefix, listOptions);
    },
    delete: async (keys, deleteOptions) => (await load()).delete(keys, deleteOptions),
    cleanupIncompleteWrites: async (olderThanMs, cleanupOptions) => (await load()).cleanupIncompleteWrites(olderThanMs, cleanupOptions),
  };
}
