// How an interrupted command reports itself: exit 90 (`aborted`) with one line saying what was interrupted, by
// what, and what was cleaned up. Signal handlers abort with interruptReason(), so every layer that rethrows the
// signal's reason already carries an `aborted` error; commands then say what they stopped and undid.
import { LifeboatError } from './lifeboat-error.js';

/** The reason the CLI aborts its commands' signal with when the process receives `signalName`. */
export function interruptReason(signalName: string): LifeboatError {
  return new LifeboatError('aborted', `interrupted by ${signalName}`);
}

/** "interrupted by SIGINT" (from interruptReason), "timed out" or "aborted": why `signal` fired. */
export function describeInterruption(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (reason instanceof LifeboatError && reason.code === 'aborted') return reason.message;
  if (reason instanceof Error && reason.name === 'TimeoutError') return 'timed out';
  return 'aborted';
}

/**
 * A command's own report of its interruption: `<what> interrupted by SIGINT[; <outcome>]`, no HINT (the
 * operator interrupted it and knows what to do). `cause` keeps the failure the abort produced, for debug logs.
 */
export class InterruptedError extends LifeboatError {
  constructor(what: string, signal: AbortSignal, outcome?: string, cause?: unknown) {
    super('aborted', `${what} ${describeInterruption(signal)}${outcome ? `; ${outcome}` : ''}`, cause === undefined ? {} : { cause });
    this.name = 'InterruptedError';
  }
}
