// What every case receives from the runner: the size profile (full or quick), where to keep cached inputs and
// scratch files, and a progress logger (stderr, so stdout holds only the report).
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface BenchContext {
  quick: boolean;
  freshData: boolean;
  /** Cached inputs (bench/out/data). */
  dataDir: string;
  /** Scratch folder of this run; removed at the end. */
  workDir: string;
  log(message: string): void;
}

export function createBenchContext(options: { quick: boolean; freshData: boolean; outDir: string }): BenchContext & { cleanup(): void } {
  const startedMs = Date.now();
  const workDir = mkdtempSync(join(tmpdir(), 'lifeboat-bench-'));
  // PostgreSQL tools run as the postgres OS user (the harness runs them so when we are root) and must reach it.
  chmodSync(workDir, 0o755);
  return {
    quick: options.quick,
    freshData: options.freshData,
    dataDir: join(options.outDir, 'data'),
    workDir,
    log(message) {
      const elapsed = Math.round((Date.now() - startedMs) / 1000);
      const stamp = `${String(Math.floor(elapsed / 60)).padStart(2, '0')}:${String(elapsed % 60).padStart(2, '0')}`;
      process.stderr.write(`[bench ${stamp}] ${message}\n`);
    },
    cleanup: () => rmSync(workDir, { recursive: true, force: true }),
  };
}
