// `lifeboat status [--json]`: backups, schedules, jobs and daemons at a glance (see jobs/read-status.ts).
import type { Command } from 'commander';
import type { Queue } from 'bullmq';
import { openQueue } from '../../jobs/job-queues.js';
import { readStatus, type DaemonStatus } from '../../jobs/read-status.js';
import { connectRedis, redisOptions, requireRedisConfig } from '../../jobs/redis-connection.js';
import { openRepository } from '../../repository/open-repository.js';
import type { CommandContext } from '../command-context.js';

function formatAge(seconds: number): string {
  if (seconds < 120) return `${seconds} s ago`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 172_800) return `${(seconds / 3600).toFixed(1)} h ago`;
  return `${(seconds / 86_400).toFixed(1)} days ago`;
}

function formatStatus(status: DaemonStatus): string {
  const lines: string[] = [];
  for (const cluster of status.clusters) {
    lines.push(`cluster ${cluster.cluster}`);
    if (cluster.catalogError) lines.push(`  repository: ${cluster.catalogError}`);
    for (const kind of ['full', 'diff', 'incr', 'verify'] as const) {
      const last = cluster.lastSuccess[kind];
      const next = cluster.next.find((n) => n.kind === kind);
      const nextText = next ? (next.paused ? `schedule "${next.schedule}" PAUSED (lifeboat schedules resume)` : next.missingInRedis ? `schedule "${next.schedule}" NOT IN REDIS (no daemon has reconciled it)` : `next ${next.nextRunAt ?? '?'} ("${next.schedule}")`) : 'on demand only';
      lines.push(`  ${kind.padEnd(6)} last ok ${last ? `${last.at} (${formatAge(last.ageSeconds)})${last.backupId ? ` ${last.backupId}` : ''}` : 'never'}; ${nextText}`);
    }
    if (cluster.window) lines.push(`  recoverable ${cluster.window.earliest.time ?? cluster.window.earliest.lsn} - ${cluster.window.latest.time ?? cluster.window.latest.lsn}`);
    const archiver = cluster.archiver;
    if (archiver.holder === undefined) lines.push('  archiver: none (no daemon with the archive role holds the lease)');
    else {
      const lag = archiver.lagBytes === undefined ? '' : `, lag ${archiver.lagBytes} bytes / ${archiver.lagSeconds ?? '?'} s`;
      lines.push(`  archiver on ${archiver.holder}${archiver.lastArchivedLsn ? `: archived to ${archiver.lastArchivedLsn}${lag}` : ''}${archiver.lastError ? `; last error: ${archiver.lastError}` : ''}`);
    }
    for (const run of cluster.running) lines.push(`  running ${run.kind} ${run.runKey} on ${run.daemonId ?? '?'} since ${run.startedAt ?? '?'}`);
    for (const run of cluster.recentProblems) lines.push(`  ${run.state} ${run.kind} ${run.runKey}${run.errorCode ? ` [${run.errorCode}]` : ''}: ${run.message ?? ''}`);
  }
  lines.push(`daemons alive: ${status.daemons.length}`);
  for (const daemon of status.daemons) {
    lines.push(`  ${daemon.id} host ${daemon.host} jobs ${daemon.jobs.join(',')} clusters ${daemon.clusters.join(',')} schedules ${daemon.scheduleHash} seen ${daemon.lastSeen}`);
  }
  const hashes = new Set(status.daemons.map((d) => d.scheduleHash));
  if (hashes.size > 1) lines.push('  WARNING: the daemons run different schedule configs and undo each other\'s schedulers');
  return lines.join('\n');
}

export function registerStatus(program: Command, context: () => CommandContext): void {
  program
    .command('status')
    .description('last successful run of each kind per cluster, next runs, running jobs, recent failures and skips, daemons alive')
    .option('--json', 'print the status as JSON')
    .action(async (options: { json?: boolean }) => {
      const ctx = context();
      const config = ctx.config();
      const redisConfig = requireRedisConfig(config, 'lifeboat status');
      const redis = await connectRedis(redisConfig);
      const repository = await openRepository(config, 'read');
      const queues = new Map<string, Queue>();
      const queueOf = (name: string): Queue => {
        let queue = queues.get(name);
        if (!queue) {
          queue = openQueue(name, redisOptions(redisConfig, 'command'), redisConfig.prefix);
          queue.on('error', () => undefined);
          queues.set(name, queue);
        }
        return queue;
      };
      try {
        const status = await readStatus({ config, redis, prefix: redisConfig.prefix, repository, queueOf, signal: ctx.signal });
        ctx.out(options.json ? JSON.stringify(status, null, 2) : formatStatus(status));
      } finally {
        await Promise.all([...queues.values()].map((q) => q.close().catch(() => undefined)));
        repository.close();
        redis.disconnect();
      }
    });
}
