// Progress for long transfers: a redrawn line (bytes, rate, ETA) on a terminal, structured log lines otherwise,
// at most every few seconds so logs stay readable.
import type { Logger } from 'pino';

export interface ProgressReporter {
  update(phase: string, doneBytes: number, totalBytes: number): void;
  done(): void;
}

const LOG_EVERY_MS = 5000;

export function createProgressReporter(log: Logger, stream: NodeJS.WriteStream): ProgressReporter {
  const started = new Map<string, number>();
  let lastLogMs = 0;
  let drawn = false;
  return {
    update(phase, doneBytes, totalBytes) {
      const now = Date.now();
      if (!started.has(phase)) started.set(phase, now);
      const seconds = Math.max(0.001, (now - started.get(phase)!) / 1000);
      const rate = doneBytes / seconds;
      const eta = rate > 0 ? Math.max(0, (totalBytes - doneBytes) / rate) : 0;
      if (stream.isTTY) {
        const percent = totalBytes > 0 ? Math.min(100, (doneBytes / totalBytes) * 100) : 100;
        const bar = '#'.repeat(Math.round(percent / 5)).padEnd(20, '.');
        stream.write(`\r${phase.padEnd(4)} [${bar}] ${percent.toFixed(0).padStart(3)}%  ${(doneBytes / 1e6).toFixed(0)}/${(totalBytes / 1e6).toFixed(0)} MB  ${(rate / 1e6).toFixed(1)} MB/s  ETA ${eta.toFixed(0)} s   `);
        drawn = true;
      } else if (now - lastLogMs >= LOG_EVERY_MS || doneBytes >= totalBytes) {
        lastLogMs = now;
        log.info({ phase, doneBytes, totalBytes, rateBytesPerSecond: Math.round(rate), etaSeconds: Math.round(eta) }, 'restore progress');
      }
    },
    done() {
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}
