// Picks and builds the storage driver a repository configuration names. The config module produces a
// StorageConfig with secrets already resolved; nothing here reads files, env vars or the network.
import { createFsStorage } from './fs-storage.js';
import { createS3Storage } from './create-s3-storage.js';
import type { Storage } from './storage.js';
import type { S3StorageOptions } from './s3-storage-options.js';

/** A local or mounted folder. */
export interface FsStorageConfig {
  driver: 'fs';
  /** Repository root folder; must exist. */
  path: string;
}

/** An S3 bucket or S3-compatible store: the s3 driver's options (see s3-storage-options.ts) a config can set. */
export interface S3StorageConfig
  extends Pick<S3StorageOptions, 'bucket' | 'region' | 'prefix' | 'endpoint' | 'forcePathStyle' | 'credentials' | 'partSizeBytes' | 'queueSize'> {
  driver: 's3';
}

/** Where a repository lives; discriminated by `driver`. */
export type StorageConfig = FsStorageConfig | S3StorageConfig;

/** Creates the driver for `config`. No I/O happens until the first storage call. */
export function createStorage(config: StorageConfig): Storage {
  switch (config.driver) {
    case 'fs':
      return createFsStorage({ path: config.path });
    case 's3':
      return createS3Storage(config);
  }
}
