// Progress of long transfers (backup, restore, verify) on stderr: on a terminal a redrawn bar with bytes, rate and
// ETA; otherwise a log line every 10 s and one when a phase ends, so logs stay readable. Rates are measured over a
// sliding window of at least a second of reports, never from a single report (which made "8.4 GB/s").
import { formatProgressLine, formatProgressSummary } from './format-progress.js';
import { createRateWindow, type RateWindow } from './rate-window.js';

export interface ProgressReporter {
  /** Bytes done of `totalBytes` (undefined: not known) in `phase`; a new phase ends the previous one. */
  update(phase: string, doneBytes: number, totalBytes?: number): void;
  /** Ends the current phase: its summary (size, time, average rate) replaces the bar or is logged. */
  done(): void;
}

/** Where bars are drawn: stderr (a tty.WriteStream when interactive). */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** What non-terminal progress is logged to: pino's info (fields, message). */
export interface ProgressLog {
  info(fields: Record<string, unknown>, message: string): void;
}

export interface ProgressReporterOptions {
  /** What is running ("backup", "restore", "verify"); starts every line. */
  label: string;
  stream: ProgressStream;
  log: ProgressLog;
  /** Milliseconds since an epoch; default Date.now. */
  now?: () => number;
  /** Without a terminal: milliseconds between log lines; default 10 000. */
  logEveryMs?: number;
  /** On a terminal: milliseconds between redraws; default 200. */
  drawEveryMs?: number;
}

interface Phase {
  name: string;
  startedMs: number;
  doneBytes: number;
  totalBytes: number | undefined;
  rate: RateWindow;
  lastOutputMs: number;
}

export function createProgressReporter(options: ProgressReporterOptions): ProgressReporter {
  const now = options.now ?? Date.now;
  const tty = options.stream.isTTY === true;
  const logEveryMs = options.logEveryMs ?? 10_000;
  const drawEveryMs = options.drawEveryMs ?? 200;
  let phase: Phase | undefined;

  const snapshot = (p: Phase, atMs: number) => ({
    label: `${options.label} ${p.name}`,
    doneBytes: p.doneBytes,
    totalBytes: p.totalBytes,
    bytesPerSecond: p.rate.bytesPerSecond(),
    elapsedMs: atMs - p.startedMs,
  });

  const finish = (): void => {
    if (!phase) return;
    const p = phase;
    phase = undefined;
    const summary = formatProgressSummary(snapshot(p, now()), p.rate.averageBytesPerSecond());
    if (tty) options.stream.write(`\r${summary}\x1b[K\n`);
    else options.log.info({ phase: p.name, doneBytes: p.doneBytes, elapsedMs: now() - p.startedMs }, summary);
  };

  return {
    update(name, doneBytes, totalBytes) {
      const atMs = now();
      if (phase?.name !== name) {
        finish();
        // A bar appears at once; log lines only once there is an interval's worth of progress to report.
        phase = { name, startedMs: atMs, doneBytes, totalBytes, rate: createRateWindow(), lastOutputMs: tty ? -Infinity : atMs };
      }
      const p = phase!;
      p.doneBytes = doneBytes;
      p.totalBytes = totalBytes;
      p.rate.add(atMs, doneBytes);
      if (tty) {
        if (atMs - p.lastOutputMs < drawEveryMs) return;
        p.lastOutputMs = atMs;
        // The cursor goes back to the line's start: a log line written meanwhile overwrites the bar instead of
        // being appended to it, and the next bar is drawn below it.
        options.stream.write(`\r${formatProgressLine(snapshot(p, atMs), { bar: true })}\x1b[K\r`);
      } else if (atMs - p.lastOutputMs >= logEveryMs) {
        p.lastOutputMs = atMs;
        const s = snapshot(p, atMs);
        options.log.info(
          { phase: name, doneBytes, totalBytes, rateBytesPerSecond: s.bytesPerSecond === undefined ? undefined : Math.round(s.bytesPerSecond) },
          formatProgressLine(s, { bar: false }),
        );
      }
    },
    done: finish,
  };
}
