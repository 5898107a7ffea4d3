// Once SIGINT/SIGTERM has fired, whatever a command fails with is the interruption's consequence (an AbortError
// from a timer, a killed pg_basebackup, a cancelled upload): it is reported as the interruption (exit 90, one
// line), and the failure it caused goes to the debug log with its stack, never into the error line.
import type { Logger } from 'pino';
import { ERROR_CODES, InterruptedError, LifeboatError } from '../errors/index.js';
import { CommandNotice } from './report-error.js';

/** `error` as the CLI should report it, given that `signal` (the commands' signal) may have fired. */
export function asInterrupted(error: unknown, command: string, signal: AbortSignal, log: Logger | undefined): unknown {
  if (!signal.aborted || error instanceof InterruptedError || error instanceof CommandNotice) return error;
  // A command that maps failures to its own exit codes (wal fetch: 126, so PostgreSQL stops recovery) keeps them.
  if (error instanceof LifeboatError && error.exitCode !== ERROR_CODES[error.code]) return error;
  log?.debug({ err: error }, `${command} failed after the interruption`);
  return new InterruptedError(command, signal, undefined, error);
}
