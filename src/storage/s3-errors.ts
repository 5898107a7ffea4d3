// Turns what the AWS SDK throws (service errors, network errors, aborts) into LifeboatErrors that name the
// key, the repository and, for network failures, the endpoint. Called after the SDK's own retries are spent,
// so whatever arrives here is what the operator must act on.
import { LifeboatError, describeError } from '../errors/index.js';
import { abortedError, isAbortError, objectExistsError, objectNotFoundError } from './storage-errors.js';

/** Where and what an S3 call was doing, for the error message. */
export interface S3ErrorContext {
  /** A verb phrase, e.g. `put`, `get`, `list`, `upload part 3 of`. */
  operation: string;
  /** The repository-relative key (or prefix) involved. */
  key: string;
  /** `s3://bucket/prefix/`. */
  location: string;
  /** The endpoint URL requests go to. */
  endpoint: string;
  /** The caller's signal; when it has fired, any failure is reported as `aborted`. */
  signal?: AbortSignal | undefined;
}

/** Node socket and DNS failures: the store was never reached (or the connection broke). */
const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
]);

const CREDENTIAL_ERROR_NAMES = new Set([
  'AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken', 'CredentialsProviderError',
]);

/** The service error code (`NoSuchKey`, `PreconditionFailed`, ...) of an SDK error. */
export function s3ErrorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

/** The HTTP status an S3 error came with, if it got that far. */
export function s3HttpStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('$metadata' in error)) return undefined;
  const metadata = (error as { $metadata?: { httpStatusCode?: number } }).$metadata;
  return metadata?.httpStatusCode;
}

/** How many attempts the SDK made before giving up (1 when it did not retry). */
export function s3Attempts(error: unknown): number {
  if (typeof error !== 'object' || error === null || !('$metadata' in error)) return 1;
  return (error as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1;
}

function isNetworkError(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error) || depth > 5) return false;
  const code = 'code' in error ? error.code : undefined;
  if (typeof code === 'string' && NETWORK_ERROR_CODES.has(code)) return true;
  if (error.name === 'TimeoutError') return true;
  if (error instanceof AggregateError && error.errors.some((inner) => isNetworkError(inner, depth + 1))) return true;
  return isNetworkError(error.cause, depth + 1);
}

/** Maps an SDK failure to a LifeboatError; LifeboatErrors (and non-SDK errors from the caller) pass through. */
export function s3Error(error: unknown, context: S3ErrorContext): unknown {
  if (error instanceof LifeboatError) return error;
  const { operation, key, location, endpoint } = context;
  if (context.signal?.aborted === true || isAbortError(error)) return abortedError(operation, key, location, error);
  const name = s3ErrorName(error) ?? 'Error';
  const status = s3HttpStatus(error);
  if (name === 'NoSuchKey') return objectNotFoundError(key, location, error);
  // Only create-only requests carry If-None-Match, so a failed precondition always means "already there".
  if (name === 'PreconditionFailed' || status === 412) return objectExistsError(key, location, error);
  if (isNetworkError(error)) {
    return new LifeboatError('storageUnavailable', `cannot reach ${endpoint} to ${operation} "${key}": ${describeError(error)}`, {
      hint: `check that ${endpoint} is reachable from this host (network, DNS, firewall, proxy); lifeboat already retried`,
      cause: error,
    });
  }
  if (name === 'NoSuchBucket') {
    return new LifeboatError('storageUnavailable', `the bucket of ${location} does not exist`, {
      hint: 'create the bucket, or fix repository.bucket / repository.region / repository.endpoint',
      cause: error,
    });
  }
  if (CREDENTIAL_ERROR_NAMES.has(name) || status === 403) {
    return new LifeboatError('storageUnavailable', `access denied to ${operation} "${key}" in ${location}: ${name}`, {
      hint: 'check repository.credentials (or the AWS credential chain) and that the bucket policy allows lifeboat this action',
      cause: error,
    });
  }
  if (name === 'PermanentRedirect' || name === 'AuthorizationHeaderMalformed' || status === 301) {
    return new LifeboatError('storageUnavailable', `${location} is not in the configured region: ${name}`, {
      hint: 'set repository.region to the bucket\'s region',
      cause: error,
    });
  }
  if (name === 'ConditionalRequestConflict' || status === 409) {
    return new LifeboatError('storageUnavailable', `another writer changed "${key}" in ${location} at the same time`, {
      hint: 'retry the operation; S3 refused the write because of a concurrent request on the same key',
      cause: error,
    });
  }
  return new LifeboatError('storageUnavailable', `cannot ${operation} "${key}" in ${location}: ${name}: ${describeError(error)}`, {
    hint: `the store at ${endpoint} kept failing after retries; check its health and retry later`,
    cause: error,
  });
}
