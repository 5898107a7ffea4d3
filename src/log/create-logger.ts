// The only place a pino logger is created. Field names that hold secrets are redacted by path, and any
// registered secret value is scrubbed from the serialized line, whatever field it hides in.
import { pino, type Logger, type DestinationStream } from 'pino';
import { redactSecrets } from './secret-registry.js';

export type { Logger } from 'pino';

/**
 * Field paths never logged, wherever they appear (one or two levels deep). Not `key`: that field names the
 * object a line is about (an object key is not a secret); key bytes travel as `keyMaterial`.
 */
const REDACT_PATHS = [
  'password', '*.password', '*.*.password',
  'secretAccessKey', '*.secretAccessKey', 'sessionToken', '*.sessionToken',
  '*.keyMaterial', 'keyMaterial', 'authorization', '*.authorization', '*.headers.authorization',
  'connectionString', '*.connectionString',
];

export interface LoggerOptions {
  /** Minimum level; default `info`, or `LIFEBOAT_LOG_LEVEL`. */
  level?: string;
  /** Where JSON lines go; default stderr so that stdout stays free for command output. */
  destination?: DestinationStream;
}

/** Scrubs registered secrets from each serialized line before it is written. */
function scrubbingDestination(inner: DestinationStream): DestinationStream {
  return { write: (line: string) => inner.write(redactSecrets(line)) };
}

/** Create the process's root logger. Pass child loggers (`log.child({ component })`) down, never this import. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.LIFEBOAT_LOG_LEVEL ?? 'info';
  const inner = options.destination ?? pino.destination({ fd: 2, sync: true });
  return pino(
    {
      level,
      base: { app: 'lifeboat' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    scrubbingDestination(inner),
  );
}
