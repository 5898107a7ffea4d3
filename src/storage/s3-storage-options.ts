// The s3 driver's options and their validation, apart from the driver itself: the driver module loads the AWS SDK
// (~25 MB), so the lazy entry (create-s3-storage.ts) checks options and names the location without loading it.
import { LifeboatError } from '../errors/index.js';
import type { S3Credentials } from './create-s3-client.js';

export const MIB = 1024 * 1024;

/** Options for {@link createS3Storage} (create-s3-storage.ts). */
export interface S3StorageOptions {
  bucket: string;
  region: string;
  /** Key prefix of the repository inside the bucket; a missing trailing `/` is added. Default `''`. */
  prefix?: string | undefined;
  /** Custom endpoint URL for S3-compatible stores. Default: AWS's regional endpoint. */
  endpoint?: string | undefined;
  /** Path-style addressing, needed by most S3-compatible stores. Default false. */
  forcePathStyle?: boolean | undefined;
  /** Static credentials. Default: the standard AWS credential chain. */
  credentials?: S3Credentials | undefined;
  /**
   * Multipart part size in bytes, 5 MiB to 5 GiB. Default 5 MiB (S3's minimum, as @aws-sdk/lib-storage): bodies
   * up to this size take one PutObject; the largest object is 10 000 parts (48.8 GiB at the default, far above
   * Lifeboat's largest objects, base backup parts of a few hundred MiB).
   */
  partSizeBytes?: number | undefined;
  /**
   * Parts of one upload in flight at once. Default 4. Memory per streamed put is at most
   * `partSizeBytes * (queueSize + 1)` (25 MiB at the defaults): the parts in flight and the one being filled.
   */
  queueSize?: number | undefined;
  /** Attempts per request, first included (throttling, 5xx, network errors are retried). Default 5. */
  maxAttempts?: number | undefined;
  /** A request fails (and is retried) when its socket stays idle this long, in ms. Default 120 000. */
  idleTimeoutMs?: number | undefined;
  /** Keys (and multipart uploads) fetched per list request, 1 to 1000. Default 1000; tests lower it. */
  listPageSize?: number | undefined;
}

/** Default multipart part size, in bytes (5 MiB). */
export const DEFAULT_PART_SIZE_BYTES = 5 * MIB;
/** Default parts in flight per upload; with the default part size, 25 MiB of memory per streamed put. */
export const DEFAULT_QUEUE_SIZE = 4;

function configError(message: string, hint: string): LifeboatError {
  return new LifeboatError('config', message, { hint });
}

export function normalizePrefix(prefix: string): string {
  if (prefix === '') return '';
  if (prefix.startsWith('/') || prefix.includes('//')) {
    throw configError(`invalid S3 repository prefix "${prefix}"`, 'use a prefix like "lifeboat/prod/": no leading "/" and no empty segments');
  }
  return prefix.endsWith('/') ? prefix : `${prefix}/`;
}

export function integerOption(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const resolved = value ?? fallback;
  if (!Number.isInteger(resolved) || resolved < min || resolved > max) {
    throw configError(`invalid S3 option ${name} ${resolved}`, `use an integer from ${min} to ${max}`);
  }
  return resolved;
}

/** Options checked and defaulted; throws LifeboatError `config` naming the bad option. */
export interface ResolvedS3StorageOptions {
  prefix: string;
  partSizeBytes: number;
  queueSize: number;
  listPageSize: number;
  location: string;
}

export function resolveS3StorageOptions(options: S3StorageOptions): ResolvedS3StorageOptions {
  const prefix = normalizePrefix(options.prefix ?? '');
  return {
    prefix,
    partSizeBytes: integerOption('partSizeBytes', options.partSizeBytes, DEFAULT_PART_SIZE_BYTES, 5 * MIB, 5 * 1024 * MIB),
    queueSize: integerOption('queueSize', options.queueSize, DEFAULT_QUEUE_SIZE, 1, 64),
    listPageSize: integerOption('listPageSize', options.listPageSize, 1000, 1, 1000),
    location: `s3://${options.bucket}/${prefix}`,
  };
}
