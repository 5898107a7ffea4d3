// `lifeboat verify`: read back every object of the chosen backups and the WAL they need; exit non-zero with
// the first problem's code when anything is missing, corrupted, truncated or unreadable with the key.
import type { Command } from 'commander';
import { LifeboatError, type ErrorCode } from '../../errors/index.js';
import { listRepositoryClusters } from '../../repository/list-repository-clusters.js';
import { runVerify, type VerifyReport } from '../../verify/run-verify.js';
import type { CommandContext } from '../command-context.js';
import { withRepository } from '../with-repository.js';
import { createProgressReporter } from '../progress-reporter.js';

function formatReport(report: VerifyReport): string {
  const lines = [
    `cluster ${report.cluster}: ${report.ok ? 'OK' : 'FAILED'} - ${report.backupsChecked.length} backup(s), ${report.objectsChecked} object(s), ` +
      `${report.walSegmentsChecked} WAL segment(s), ${(report.bytesChecked / 1e6).toFixed(1)} MB read and verified`,
  ];
  for (const problem of report.problems) lines.push(`  ${problem.code}: ${problem.message}`);
  return lines.join('\n');
}

export function registerVerify(program: Command, context: () => CommandContext): void {
  program
    .command('verify')
    .description('read back and check every object of the backups and the WAL they need; report gaps exactly')
    .option('--cluster <name>', 'cluster (default: every configured cluster, else every cluster in the repository)')
    .option('--backup <id>', 'only this backup and the WAL it needs')
    .option('--json', 'print the reports as JSON')
    .action(async (options: { cluster?: string; backup?: string; json?: boolean }) => {
      const ctx = context();
      const config = ctx.config();
      const reports: VerifyReport[] = [];
      await withRepository(ctx, 'read', async (repository) => {
        const progress = createProgressReporter({ label: 'verify', stream: process.stderr, log: ctx.log });
        try {
          // A restore-only config names no cluster: verify every one the repository holds.
          const names = options.cluster ? [options.cluster] : config.clusters.length > 0 ? config.clusters.map((c) => c.name) : await listRepositoryClusters(repository.storage, ctx.signal);
          for (const cluster of names) {
            const onProgress = (done: number, total: number): void => progress.update(cluster, done, total);
            reports.push(await runVerify({ storage: repository.storage, keys: repository.keys, cluster, ...(options.backup ? { backupId: options.backup } : {}), log: ctx.log, signal: ctx.signal, onProgress }));
          }
        } finally {
          progress.done();
        }
      });
      ctx.out(options.json ? JSON.stringify({ reports }, null, 2) : reports.map(formatReport).join('\n'));
      const failed = reports.flatMap((r) => r.problems);
      if (failed.length > 0) {
        const code = (failed[0]!.code as ErrorCode) ?? 'objectCorrupted';
        // A wrong key damages nothing: the objects are fine and open with the key they were written with.
        const hint = code === 'wrongKey'
          ? 'the objects are encrypted with another key: configure the key they were encrypted with (the report names its key id) and run verify again'
          : 'the report above names each object or WAL segment; take a new full backup to start a clean chain';
        throw new LifeboatError(code, `verification found ${failed.length} problem(s)`, { hint });
      }
    });
}
