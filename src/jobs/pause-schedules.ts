// `schedules pause|resume`: a maintenance window. Pausing marks the schedules paused in Redis and reconciles, which
// removes their job schedulers (no due run fires, none is caught up later); every daemon's reconcile honours the
// mark. Resuming clears it and reconciles, re-creating them from the config. On-demand runs are not affected.
import type { ConnectionOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { JOB_KIND_NAMES, type JobKindName } from '../config/index.js';
import type { Logger } from '../log/index.js';
import type { ScheduleConfig } from './plan-schedulers.js';
import { reconcileSchedulers, type ReconcileResult } from './reconcile-schedulers.js';
import { pausedSchedulersKey, schedulerId } from './redis-keys.js';

export async function setSchedulesPaused(options: {
  paused: boolean;
  config: ScheduleConfig;
  clusters: readonly string[];
  kinds?: readonly JobKindName[];
  redis: Redis;
  connection: ConnectionOptions;
  prefix: string;
  log: Logger;
}): Promise<{ ids: string[]; result: ReconcileResult }> {
  const ids = options.clusters.flatMap((cluster) => (options.kinds ?? JOB_KIND_NAMES).map((kind) => schedulerId(cluster, kind)));
  if (options.paused) await options.redis.sadd(pausedSchedulersKey(options.prefix), ...ids);
  else await options.redis.srem(pausedSchedulersKey(options.prefix), ...ids);
  const result = await reconcileSchedulers(options.config, options.redis, options.connection, options.prefix, options.log);
  return { ids, result };
}

/** The paused scheduler ids. */
export async function listPausedSchedules(redis: Redis, prefix: string): Promise<string[]> {
  return (await redis.smembers(pausedSchedulersKey(prefix))).sort();
}
