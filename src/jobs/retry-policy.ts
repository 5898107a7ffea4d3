// Which failures a job retries (with exponential backoff) and which fail at once, from the error catalog: a peer
// that is unreachable now may answer later; a config error, a checksum mismatch or a wrong key will not.
import type { DefaultJobOptions } from 'bullmq';
import type { ErrorCode } from '../errors/index.js';

/**
 * Codes worth another attempt: the repository, KMS or PostgreSQL unreachable, or the run aborted by its daemon's
 * shutdown or a lost lock (another daemon may take it; a due run already done is found as a duplicate).
 */
const RETRYABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['storageUnavailable', 'kmsUnavailable', 'postgresUnavailable', 'aborted']);

export function isRetryableCode(code: ErrorCode): boolean {
  return RETRYABLE.has(code);
}

/** Attempts of one run, first included. */
export const JOB_ATTEMPTS = 4;

/** First retry delay; doubled at each attempt (10 s, 20 s, 40 s). */
export const JOB_BACKOFF_MS = 10_000;

/** Options of every job: bounded retries with backoff, and bounded history of finished jobs. */
export const DEFAULT_JOB_OPTIONS: DefaultJobOptions = {
  attempts: JOB_ATTEMPTS,
  backoff: { type: 'exponential', delay: JOB_BACKOFF_MS },
  removeOnComplete: { age: 14 * 24 * 3600, count: 1000 },
  removeOnFail: { age: 30 * 24 * 3600, count: 1000 },
};
