// Runs one `wal fetch` attempt again after transient failures, waiting longer each time (1 s, 2 s, 4 s by
// default): PostgreSQL waits for restore_command, and a brief outage must not end recovery.
import { setTimeout as sleep } from 'node:timers/promises';
import { isLifeboatError, type ErrorCode } from '../../errors/index.js';

/** Failures that no wait can heal: the request, the config or the key is wrong, or the caller gave up. */
const PERMANENT_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['usage', 'config', 'secret', 'keyFile', 'wrongKey', 'aborted', 'internal']);

/** True when retrying `error` might succeed: storage, KMS, checksum and local disk failures. */
export function isRetryableFetchError(error: unknown): boolean {
  return !isLifeboatError(error) || !PERMANENT_CODES.has(error.code);
}

/** Options for {@link retryWithBackoff}. */
export interface RetryOptions {
  /** Attempts after the first. */
  retries: number;
  /** Wait before the first retry; doubled for each further one. */
  firstDelayMs: number;
  signal: AbortSignal;
  /** Called before each wait with the failed attempt (1-based) and its error. */
  onRetry?: (attempt: number, delayMs: number, error: unknown) => void;
}

/** Runs `attempt` until it resolves, a failure is permanent, or the retries are used up; then rethrows. */
export async function retryWithBackoff<T>(attempt: () => Promise<T>, options: RetryOptions): Promise<T> {
  for (let number = 1; ; number++) {
    try {
      return await attempt();
    } catch (error) {
      if (number > options.retries || options.signal.aborted || !isRetryableFetchError(error)) throw error;
      const delayMs = options.firstDelayMs * 2 ** (number - 1);
      options.onRetry?.(number, delayMs, error);
      await sleep(delayMs, undefined, { signal: options.signal });
    }
  }
}
