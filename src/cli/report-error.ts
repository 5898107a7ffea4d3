// Maps anything thrown by a command to what the operator sees: "error[code]: message" and a HINT line on
// stderr, secrets scrubbed, and the exit code from the error catalog.
import { ERROR_CODES, LifeboatError } from '../errors/index.js';
// The registry alone, not ../log/index.js: that loads pino, which `lifeboat --version` must not pay for.
import { redactSecrets } from '../log/secret-registry.js';

export interface ErrorReport {
  text: string;
  exitCode: number;
}

/**
 * Not an error: a command's expected outcome that still needs a non-zero exit code (restore_command's "no such
 * file"). Reported as one plain line, without "error" or a HINT, so that logs do not cry wolf.
 */
export class CommandNotice extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CommandNotice';
  }
}

/** The stderr text and exit code for `error`. Unknown errors are reported as internal (exit 99). */
export function formatErrorReport(error: unknown): ErrorReport {
  if (error instanceof CommandNotice) return { text: redactSecrets(`lifeboat: ${error.message}`), exitCode: error.exitCode };
  if (error instanceof LifeboatError) {
    const lines = [`error[${error.code}]: ${error.message}`];
    if (error.hint) lines.push(`HINT: ${error.hint}`);
    return { text: redactSecrets(lines.join('\n')), exitCode: error.exitCode };
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return {
    text: redactSecrets(`error[internal]: ${message}\nHINT: this is a bug in lifeboat; please report it with the lines above`),
    exitCode: ERROR_CODES.internal,
  };
}
