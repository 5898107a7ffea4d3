// `lifeboat check`: probe PostgreSQL, the client programs, the repository and the key; exit non-zero on any failure.
import type { Command } from 'commander';
import type { CheckItem } from '../../check/check-item.js';
import { runCheck, type CheckReport } from '../../check/run-check.js';
import { selectCluster } from '../../config/index.js';
import { LifeboatError, type ErrorCode } from '../../errors/index.js';
import type { CommandContext } from '../command-context.js';

function formatItem(item: CheckItem): string {
  const line = `  ${item.ok ? (item.warning ? 'WARN' : 'ok  ') : 'FAIL'}  ${item.name}: ${item.detail}`;
  return item.hint ? `${line}\n        HINT: ${item.hint}` : line;
}

function formatReport(report: CheckReport): string {
  const lines: string[] = [];
  for (const cluster of report.clusters) lines.push(`cluster ${cluster.cluster}`, ...cluster.items.map(formatItem));
  lines.push('repository', ...report.repository.map(formatItem));
  const warnings = [...report.clusters.flatMap((c) => c.items), ...report.repository].some((i) => i.warning === true);
  lines.push(report.ok ? (warnings ? 'all checks passed, with warnings (WARN above)' : 'all checks passed') : 'some checks FAILED');
  return lines.join('\n');
}

export function registerCheck(program: Command, context: () => CommandContext): void {
  program
    .command('check')
    .description('probe PostgreSQL (settings, privileges, replication), client programs, the repository and the key')
    .option('--cluster <name>', 'only this cluster (default: all configured)')
    .option('--archive', 'also switch WAL and wait until that segment is in the repository (needs a running `wal archive`)')
    .option('--json', 'print the report as JSON')
    .action(async (options: { cluster?: string; archive?: boolean; json?: boolean }) => {
      const ctx = context();
      const config = ctx.config();
      const names = options.cluster ? [selectCluster(config, options.cluster).name] : config.clusters.map((c) => c.name);
      const report = await runCheck(config, names, ctx.signal, { archive: options.archive === true });
      ctx.out(options.json ? JSON.stringify(report, null, 2) : formatReport(report));
      if (!report.ok) {
        const first = [...report.clusters.flatMap((c) => c.items), ...report.repository].find((i) => !i.ok)!;
        throw new LifeboatError((first.code as ErrorCode | undefined) ?? 'postgresConfig', `check failed: ${first.name}`, { hint: first.hint ?? 'see the report above' });
      }
    });
}
