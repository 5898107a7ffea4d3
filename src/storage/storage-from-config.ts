// Turns the repository section of the runtime config into a driver configuration: units converted, secrets
// handed over, and the fs folder created on first use so the embedded default works on a fresh machine.
import { mkdirSync } from 'node:fs';
import type { RuntimeRepository } from '../config/index.js';
import { createStorage, type StorageConfig } from './create-storage.js';
import type { Storage } from './storage.js';

export function storageConfigFrom(repository: RuntimeRepository): StorageConfig {
  if (repository.driver === 'fs') return { driver: 'fs', path: repository.path };
  const credentials = repository.credentials;
  return {
    driver: 's3',
    bucket: repository.bucket,
    region: repository.region,
    prefix: repository.prefix,
    endpoint: repository.endpoint,
    forcePathStyle: repository.forcePathStyle,
    partSizeBytes: repository.partSizeMiB * 1024 * 1024,
    credentials: credentials
      ? {
          accessKeyId: credentials.accessKeyId.reveal(),
          secretAccessKey: credentials.secretAccessKey.reveal(),
          sessionToken: credentials.sessionToken?.reveal(),
        }
      : undefined,
  };
}

/** Open the configured repository; an fs repository folder is created (mode 0700) if missing. */
export function openStorage(repository: RuntimeRepository): Storage {
  if (repository.driver === 'fs') mkdirSync(repository.path, { recursive: true, mode: 0o700 });
  return createStorage(storageConfigFrom(repository));
}
