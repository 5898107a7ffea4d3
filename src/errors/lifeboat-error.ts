// The one error type Lifeboat throws on purpose: a stable code, a lowercase message naming the problem,
// and a hint telling the operator what to do next. Anything else reaching the CLI is reported as internal.
import { ERROR_CODES, type ErrorCode } from './error-codes.js';

export interface LifeboatErrorOptions {
  /** What the operator should do about it; printed on its own HINT line. */
  hint?: string;
  /** The underlying error, kept for logs (never printed with secrets). */
  cause?: unknown;
}

export class LifeboatError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: LifeboatErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LifeboatError';
    this.code = code;
    this.hint = options.hint;
  }

  /** The process exit code for this error. */
  get exitCode(): number {
    return ERROR_CODES[this.code];
  }
}

/** True when `error` is a LifeboatError, optionally with the given code. */
export function isLifeboatError(error: unknown, code?: ErrorCode): error is LifeboatError {
  return error instanceof LifeboatError && (code === undefined || error.code === code);
}

/** A short description of any thrown value, for wrapping foreign errors into a LifeboatError message. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
