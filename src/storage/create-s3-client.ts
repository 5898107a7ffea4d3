// Builds the one S3Client an s3 driver uses, with the settings every Lifeboat S3 call relies on: standard
// retries with backoff, bounded connect and idle timeouts, and checksums only where the API requires them
// (S3-compatible stores reject the newer default CRC trailers on streamed bodies).
import { S3Client } from '@aws-sdk/client-s3';

/** Static credentials, already resolved from secret references by the config loader. */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
}

/** Options for {@link createS3Client}. */
export interface S3ClientOptions {
  region: string;
  /** Custom endpoint URL for S3-compatible stores. Default: AWS's regional endpoint. */
  endpoint?: string | undefined;
  /** Path-style addressing (`endpoint/bucket/key`). Default false (virtual-hosted). */
  forcePathStyle?: boolean | undefined;
  /** Default: the standard AWS credential chain (env, profile, instance/task role). */
  credentials?: S3Credentials | undefined;
  /**
   * Attempts per request, first included, for throttling (429, SlowDown), 5xx, timeouts and broken
   * connections. Backoff is the SDK standard mode's: exponential with full jitter, base 100 ms (500 ms when
   * throttled), capped at 20 s. Default 5.
   */
  maxAttempts?: number | undefined;
  /** Time allowed to open a TCP/TLS connection, in ms. Default 10 000. */
  connectionTimeoutMs?: number | undefined;
  /** A request fails when its socket stays idle this long, in ms (then it is retried). Default 120 000. */
  idleTimeoutMs?: number | undefined;
}

/** Default attempts per S3 request (see {@link S3ClientOptions.maxAttempts}). */
export const DEFAULT_S3_MAX_ATTEMPTS = 5;

/** Creates an S3Client configured for Lifeboat. */
export function createS3Client(options: S3ClientOptions): S3Client {
  return new S3Client({
    region: options.region,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    forcePathStyle: options.forcePathStyle ?? false,
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    retryMode: 'standard',
    maxAttempts: options.maxAttempts ?? DEFAULT_S3_MAX_ATTEMPTS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // No whole-request timeout: a multi-MiB part on a slow link may legitimately take minutes; an idle socket may not.
    requestHandler: {
      connectionTimeout: options.connectionTimeoutMs ?? 10_000,
      socketTimeout: options.idleTimeoutMs ?? 120_000,
    },
  });
}
