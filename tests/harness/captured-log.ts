// A Lifeboat logger whose JSON lines a test can read back, e.g. to prove the archiver ended an orphan or
// resumed at a given segment. Lines at `echoLevel` and above still reach stderr for failure diagnosis.
import { createLogger, type Logger } from '../../src/log/index.js';

/** One parsed log line: pino's fields plus the call's own. */
export type LogRecord = Record<string, unknown> & { msg?: string; level?: string };

export interface CapturedLog {
  log: Logger;
  readonly records: LogRecord[];
  /** Records whose message is exactly `msg`. */
  withMessage(msg: string): LogRecord[];
  /** The last `count` records at warn level or above, one line each: for a failed test's report. */
  recentProblems(count?: number): string;
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

export function createCapturedLog(level = 'info', echoLevel = process.env.LIFEBOAT_TEST_LOG_LEVEL ?? 'error'): CapturedLog {
  const records: LogRecord[] = [];
  const echoFrom = LEVELS.indexOf(echoLevel);
  const log = createLogger({
    level,
    destination: {
      write(line: string) {
        const record = JSON.parse(line) as LogRecord;
        records.push(record);
        if (LEVELS.indexOf(String(record.level)) >= echoFrom) process.stderr.write(line);
      },
    },
  });
  return {
    log,
    records,
    withMessage: (msg) => records.filter((record) => record.msg === msg),
    recentProblems: (count = 40) =>
      records
        .filter((record) => LEVELS.indexOf(String(record.level)) >= LEVELS.indexOf('warn'))
        .slice(-count)
        .map((record) => `${String(record.time)} ${String(record.level)} ${String(record.msg)} ${typeof record.error === 'string' ? record.error : ''}`)
        .join('\n'),
  };
}
