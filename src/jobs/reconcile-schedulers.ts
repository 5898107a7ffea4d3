// Makes BullMQ's job schedulers match the config: adds the missing, updates the changed, removes those no longer
// configured (on every queue ever configured, so a removed cluster's schedules go too). Run at start and after
// every Redis reconnect, since a Redis restart without persistence loses them. Idempotent: every daemon runs it,
// and BullMQ names each due run's job after scheduler and due time, so a slot fires once.
import type { ConnectionOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../log/index.js';
import { openQueue } from './job-queues.js';
import { planQueues, planSchedulers, type ScheduleConfig } from './plan-schedulers.js';
import { knownQueuesKey, pausedSchedulersKey } from './redis-keys.js';
import { DEFAULT_JOB_OPTIONS } from './retry-policy.js';

export interface ReconcileResult {
  added: string[];
  changed: string[];
  removed: string[];
  /** Configured but paused (`schedules pause`): left out. */
  paused: string[];
}

export async function reconcileSchedulers(
  config: ScheduleConfig,
  redis: Redis,
  connection: ConnectionOptions,
  prefix: string,
  log: Logger,
): Promise<ReconcileResult> {
  // A paused schedule is not configured for now: reconciling removes it, and no daemon start brings it back.
  const paused = new Set(await redis.smembers(pausedSchedulersKey(prefix)));
  const desired = planSchedulers(config).filter((s) => !paused.has(s.schedulerId));
  const configured = planQueues(config).map((q) => q.queue);
  if (configured.length > 0) await redis.sadd(knownQueuesKey(prefix), ...configured);
  const queues = [...new Set([...(await redis.smembers(knownQueuesKey(prefix))), ...configured])].sort();
  const result: ReconcileResult = { added: [], changed: [], removed: [], paused: planSchedulers(config).filter((s) => paused.has(s.schedulerId)).map((s) => s.schedulerId) };
  for (const name of queues) {
    const queue: Queue = openQueue(name, connection, prefix);
    queue.on('error', (error) => log.warn({ err: error, queue: name }, 'queue connection error'));
    try {
      const existing = new Map((await queue.getJobSchedulers(0, -1)).map((s) => [s.key, s]));
      for (const want of desired.filter((d) => d.queue === name)) {
        const have = existing.get(want.schedulerId);
        existing.delete(want.schedulerId);
        if (have && have.pattern === want.pattern && (have.tz ?? 'UTC') === want.tz) continue;
        await queue.upsertJobScheduler(want.schedulerId, { pattern: want.pattern, tz: want.tz }, { name: want.kind, data: { cluster: want.cluster, kind: want.kind }, opts: DEFAULT_JOB_OPTIONS });
        (have ? result.changed : result.added).push(want.schedulerId);
      }
      for (const stale of existing.keys()) {
        await queue.removeJobScheduler(stale);
        result.removed.push(stale);
      }
    } finally {
      await queue.close();
    }
  }
  return result;
}
