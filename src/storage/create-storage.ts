// Picks and builds the storage driver a repository configuration names. The config module produces a
// StorageConfig with secrets already resolved; nothing here reads files, env vars or the network.
import { createFsStorage } from './fs-storage.js';
import { createS3Storage } from './create-s3-storage.js';
import type { Storage } from './storage.js';
import type { S3Credentials } from './create-s3-client.js';

/** A local or mounted folder. */
export interface FsStorageConfig {
  driver: 'fs';
  /** Repository root folder; must exist. */
  path: string;
}

/** An S3 bucket or S3-compatible store. */
export interface S3StorageConfig {
  driver: 's3';
  bucket: string;
  region: string;
  /** Key prefix inside the bucket, ending in `/`. Default `''` (the bucket root). */
  prefix?: string | undefined;
  /** Custom endpoint URL for S3-compatible stores. Default: AWS's regional endpoint. */
  endpoint?: string | undefined;
  /** Path-style addressing. Default false. */
  forcePathStyle?: boolean | undefined;
  /** Static credentials, resolved. Default: the standard AWS credential chain. */
  credentials?: S3Credentials | undefined;
  /** Multipart part size in bytes (5 MiB-5 GiB). Default 5 MiB; memory per upload is about 5x this. */
  partSizeBytes?: number | undefined;
  /** Parts uploaded at once per object. Default 4. */
  queueSize?: number | undefined;
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
