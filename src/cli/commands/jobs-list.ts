// `lifeboat jobs list [--failed] [--cluster NAME] [--json]`: the recent runs as the daemons recorded them, newest first.
import type { Command } from 'commander';
import { connectRedis, requireRedisConfig } from '../../jobs/redis-connection.js';
import { listRecentRuns, type RunRecord } from '../../jobs/run-record.js';
import type { CommandContext } from '../command-context.js';

function formatRun(run: RunRecord): string {
  const outcome = run.backupId ?? (run.errorCode ? `[${run.errorCode}]` : '');
  const duplicates = run.duplicates ? ` (+${run.duplicates} duplicate deliveries)` : '';
  return `${run.updatedAt}  ${run.state.padEnd(8)} ${run.kind.padEnd(6)} ${run.cluster}  ${run.runKey}  ${run.daemonId ?? '-'}  ${outcome} ${run.message ?? ''}${duplicates}`.trimEnd();
}

export function registerJobsList(parent: Command, context: () => CommandContext): void {
  parent
    .command('list')
    .description('recent runs (done, skipped, failed, running), newest first')
    .option('--failed', 'only failed runs (and those waiting for a retry)')
    .option('--cluster <name>', 'only this cluster')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'print the run records as JSON')
    .action(async (options: { failed?: boolean; cluster?: string; limit: string; json?: boolean }) => {
      const ctx = context();
      const redisConfig = requireRedisConfig(ctx.config(), 'lifeboat jobs list');
      const redis = await connectRedis(redisConfig);
      try {
        const limit = Math.max(1, Number.parseInt(options.limit, 10) || 50);
        const runs = (await listRecentRuns(redis, redisConfig.prefix, 5000))
          .filter((r) => !options.failed || r.state === 'failed' || r.state === 'retrying')
          .filter((r) => options.cluster === undefined || r.cluster === options.cluster)
          .slice(0, limit);
        ctx.out(options.json ? JSON.stringify({ runs }, null, 2) : runs.length === 0 ? 'no runs recorded' : runs.map(formatRun).join('\n'));
      } finally {
        redis.disconnect();
      }
    });
}
