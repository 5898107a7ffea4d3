// The storage capability: the Storage contract, its fs and s3 drivers, the repository layout (every object
// key), and the JSON metadata helpers shared by all drivers.
export type { GetOptions, ObjectInfo, PutOptions, PutResult, Storage } from './storage.js';
export { createStorage, type FsStorageConfig, type S3StorageConfig, type StorageConfig } from './create-storage.js';
export { createFsStorage, type FsStorageOptions } from './fs-storage.js';
export { createS3Storage } from './create-s3-storage.js';
export { DEFAULT_PART_SIZE_BYTES, DEFAULT_QUEUE_SIZE, type S3StorageOptions } from './s3-storage-options.js';
export type { S3Credentials } from './create-s3-client.js';
export { collectList, DEFAULT_MAX_JSON_BYTES, describeSchemaIssues, exists, loadJson, parseJsonBytes, readAll, storeJson } from './json-objects.js';
export { assertValidKey, assertValidPrefix, compareKeys, MAX_KEY_BYTES } from './storage-key.js';
export * from './repository-layout.js';
export { storageConfigFrom, openStorage } from './storage-from-config.js';
export { forEachBounded } from './for-each-bounded.js';
