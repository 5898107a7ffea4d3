// `lifeboat schedules pause|resume [--cluster NAME] [KIND]`: stop and restart scheduled runs for a maintenance
// window (see jobs/pause-schedules.ts).
import type { Command } from 'commander';
import { selectCluster } from '../../config/index.js';
import { jobKind } from '../../jobs/job-kinds.js';
import { setSchedulesPaused } from '../../jobs/pause-schedules.js';
import { connectRedis, redisOptions, requireRedisConfig } from '../../jobs/redis-connection.js';
import type { CommandContext } from '../command-context.js';

function register(parent: Command, context: () => CommandContext, paused: boolean): void {
  parent
    .command(paused ? 'pause' : 'resume')
    .description(paused ? 'pause scheduled runs (all kinds, or KIND) of every cluster or --cluster; missed runs are not caught up' : 'resume paused schedules')
    .argument('[kind]', 'job kind (default: all)')
    .option('--cluster <name>', 'cluster (default: all)')
    .action(async (kindName: string | undefined, options: { cluster?: string }) => {
      const ctx = context();
      const config = ctx.config();
      const kinds = kindName === undefined ? undefined : [jobKind(kindName).name];
      const clusters = options.cluster === undefined ? config.clusters.map((c) => c.name) : [selectCluster(config, options.cluster).name];
      const redisConfig = requireRedisConfig(config, `lifeboat schedules ${paused ? 'pause' : 'resume'}`);
      const redis = await connectRedis(redisConfig);
      try {
        const { ids, result } = await setSchedulesPaused({ paused, config, clusters, ...(kinds ? { kinds } : {}), redis, connection: redisOptions(redisConfig, 'command'), prefix: redisConfig.prefix, log: ctx.log });
        ctx.out(`${paused ? 'paused' : 'resumed'}: ${ids.join(', ')}${result.added.length > 0 ? `; schedulers re-created: ${result.added.join(', ')}` : ''}${result.removed.length > 0 ? `; schedulers removed: ${result.removed.join(', ')}` : ''}`);
      } finally {
        redis.disconnect();
      }
    });
}

export function registerSchedules(parent: Command, context: () => CommandContext): void {
  register(parent, context, true);
  register(parent, context, false);
}
