// A Lifeboat logger for benchmark children that keeps each line's message and time, so a task can tell how
// long the phases of a run took (e.g. streaming the base backup vs waiting for its WAL). Warnings and errors
// still reach stderr.
import { createLogger, type Logger } from '../../src/log/index.js';

export interface LoggedEvent {
  atMs: number;
  level: string;
  msg: string;
}

export function createCapturingLogger(): { log: Logger; events: LoggedEvent[] } {
  const events: LoggedEvent[] = [];
  const log = createLogger({
    level: 'info',
    destination: {
      write(line: string) {
        const parsed = JSON.parse(line) as { level: string; msg: string; time: string };
        events.push({ atMs: Date.parse(parsed.time), level: parsed.level, msg: parsed.msg });
        if (parsed.level !== 'info' && parsed.level !== 'debug' && parsed.level !== 'trace') process.stderr.write(line);
      },
    },
  });
  return { log, events };
}
