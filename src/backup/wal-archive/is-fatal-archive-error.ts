// Which failures end the archiver and which it retries. A conflict (another history under a segment name), a
// WAL gap, bad configuration or keys cannot heal by waiting, and retrying a conflict could only make it
// worse; an unreachable repository, KMS or server, or a receiver that lost its connection, does heal.
import { isLifeboatError, type ErrorCode } from '../../errors/index.js';

const FATAL_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'usage',
  'config',
  'secret',
  'objectExists',
  'objectCorrupted',
  'wrongKey',
  'keyFile',
  'postgresConfig',
  'internal',
]);

/** True when `error` must stop the archiver instead of being retried with backoff. */
export function isFatalArchiveError(error: unknown): boolean {
  return isLifeboatError(error) && FATAL_CODES.has(error.code);
}
