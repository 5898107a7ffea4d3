// `lifeboat jobs run KIND`: queue a run of KIND for the daemons; with --wait, follow it and exit with its result.
import type { Command } from 'commander';
import { selectCluster } from '../../config/index.js';
import { listAliveDaemons } from '../../jobs/daemon-registry.js';
import { jobKind } from '../../jobs/job-kinds.js';
import { enqueueRun, openQueue, queueName } from '../../jobs/job-queues.js';
import { connectRedis, redisOptions, requireRedisConfig } from '../../jobs/redis-connection.js';
import { waitForRun } from '../../jobs/wait-for-run.js';
import type { CommandContext } from '../command-context.js';

export function registerJobsRun(parent: Command, context: () => CommandContext): void {
  parent
    .command('run')
    .description('queue a run of KIND (full, diff, incr, verify) for the daemons; --wait follows it to its end')
    .argument('<kind>', 'job kind')
    .option('--cluster <name>', 'cluster (default: the only one configured)')
    .option('--wait', 'wait for the run to end and exit with its result code')
    .action(async (kindName: string, options: { cluster?: string; wait?: boolean }) => {
      const ctx = context();
      const config = ctx.config();
      const kind = jobKind(kindName);
      const cluster = selectCluster(config, options.cluster);
      const redisConfig = requireRedisConfig(config, 'lifeboat jobs run');
      const redis = await connectRedis(redisConfig);
      const queue = openQueue(queueName(cluster.name, kind.name), redisOptions(redisConfig, 'command'), redisConfig.prefix);
      queue.on('error', () => undefined);
      try {
        const takers = (await listAliveDaemons(redis, redisConfig.prefix)).filter((d) => d.jobs.includes(kind.name) && d.clusters.includes(cluster.name));
        if (takers.length === 0) ctx.log.warn({ kind: kind.name, cluster: cluster.name }, 'no daemon alive takes this kind for this cluster; the run waits in the queue until one does');
        const { runKey, jobId } = await enqueueRun(queue, cluster.name, kind.name, `cli ${process.env.USER ?? 'unknown'}`);
        ctx.out(`queued ${kind.name} run ${runKey} for cluster ${cluster.name}`);
        if (!options.wait) return;
        const record = await waitForRun(redis, queue, redisConfig.prefix, runKey, jobId, ctx.signal);
        ctx.out(`${kind.name} run done on daemon ${record.daemonId ?? '?'}: ${record.message ?? ''}`);
      } finally {
        await queue.close().catch(() => undefined);
        redis.disconnect();
      }
    });
}
