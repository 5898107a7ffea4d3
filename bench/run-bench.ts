// `npm run bench`: runs the selected benchmark cases one after another, prints each case's tables as it ends,
// and writes every figure to bench/out/results-<date>.json. A failing case is reported and the others still run.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createBenchContext, type BenchContext } from './bench-context.js';
import { parseBenchOptions, USAGE, type CaseName } from './bench-options.js';
import { runArchiverSoakCase } from './cases/archiver-soak-case.js';
import { runDaemonCase } from './cases/daemon-case.js';
import { runFullBackupCase } from './cases/full-backup-case.js';
import { runPipelineCase } from './cases/pipeline-case.js';
import { runReplayTuningCase } from './cases/replay-tuning-case.js';
import { runRestoreCase } from './cases/restore-case.js';
import { runWalArchiveCase } from './cases/wal-archive-case.js';
import { runWalScanCase } from './cases/wal-scan-case.js';
import { runVsPgbackrestCase } from './cases/vs-pgbackrest-case.js';
import type { CaseReport, CaseResult } from './report/case-report.js';
import { describeHost, formatHost, type HostInfo } from './report/describe-host.js';
import { formatReport } from './report/print-report.js';

const CASES: Record<CaseName, (ctx: BenchContext) => Promise<CaseResult>> = {
  pipeline: runPipelineCase,
  'full-backup': runFullBackupCase,
  'wal-archive': runWalArchiveCase,
  'wal-scan': runWalScanCase,
  restore: runRestoreCase,
  daemon: runDaemonCase,
  'archiver-soak': runArchiverSoakCase,
  'vs-pgbackrest': runVsPgbackrestCase,
  'replay-tuning': runReplayTuningCase,
};

const OUT_DIR = join(import.meta.dirname, '..', '..', 'bench', 'out');

async function main(): Promise<number> {
  const options = parseBenchOptions(process.argv.slice(2), process.env);
  if (options === 'help') {
    console.log(USAGE);
    return 0;
  }
  mkdirSync(OUT_DIR, { recursive: true });
  const startedAt = new Date();
  const host = describeHost();
  const ctx = createBenchContext({ quick: options.quick, freshData: options.freshData, outDir: OUT_DIR });
  const resultsPath = join(OUT_DIR, `results-${startedAt.toISOString().replace(/[:.]/g, '-').slice(0, 19)}${options.quick ? '-quick' : ''}.json`);
  const results: { startedAt: string; quick: boolean; host: HostInfo; cases: (CaseReport | { name: string; error: string })[] } = {
    startedAt: startedAt.toISOString(),
    quick: options.quick,
    host,
    cases: [],
  };
  console.log(`## Lifeboat benchmarks, ${startedAt.toISOString()}${options.quick ? ' (--quick: small data, not for the README)' : ''}\n`);
  console.log(`${formatHost(host)}\n`);
  let failed = 0;
  try {
    for (const name of options.cases) {
      ctx.log(`case ${name} starts`);
      const started = performance.now();
      const loadBefore = loadavg()[0]!;
      try {
        const measured = await CASES[name](ctx);
        const report: CaseReport = { ...measured, durationSeconds: (performance.now() - started) / 1000, loadAverage: { before: loadBefore, after: loadavg()[0]! } };
        results.cases.push(report);
        console.log(formatReport(report));
      } catch (error) {
        failed += 1;
        const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
        results.cases.push({ name, error: message });
        console.log(`### ${name}: FAILED\n\n\`\`\`\n${message}\n\`\`\`\n`);
      }
      // Written after every case, so an interrupted run keeps what it measured.
      writeFileSync(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
    }
  } finally {
    ctx.cleanup();
  }
  console.log(`results: ${resultsPath}`);
  ctx.log(`done: ${options.cases.length - failed} cases measured, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = await main();
