// The job schedulers the config asks for (pure): one per cluster and scheduled kind, and the hash of that
// schedule config each daemon records, so that daemons running different configs are noticed.
import { createHash } from 'node:crypto';
import { JOB_KIND_NAMES, type ClusterSchedules, type JobKindName } from '../config/index.js';
import { queueName, schedulerId } from './redis-keys.js';

export interface DesiredScheduler {
  queue: string;
  schedulerId: string;
  cluster: string;
  kind: JobKindName;
  pattern: string;
  tz: string;
}

/** What the schedules are planned from: the config as written or as resolved. */
export interface ScheduleConfig {
  readonly clusters: readonly { readonly name: string; readonly schedules: ClusterSchedules }[];
  readonly schedules: { readonly timezone: string };
}

export function planSchedulers(config: ScheduleConfig): DesiredScheduler[] {
  const desired: DesiredScheduler[] = [];
  for (const cluster of config.clusters) {
    for (const kind of JOB_KIND_NAMES) {
      const pattern = cluster.schedules[kind];
      if (pattern === undefined) continue;
      desired.push({ queue: queueName(cluster.name, kind), schedulerId: schedulerId(cluster.name, kind), cluster: cluster.name, kind, pattern: pattern.trim(), tz: config.schedules.timezone });
    }
  }
  return desired;
}

/** Every queue the config names (scheduled or not): the daemon and `jobs run` may use any of them. */
export function planQueues(config: Pick<ScheduleConfig, 'clusters'>): { queue: string; cluster: string; kind: JobKindName }[] {
  return config.clusters.flatMap((cluster) => JOB_KIND_NAMES.map((kind) => ({ queue: queueName(cluster.name, kind), cluster: cluster.name, kind })));
}

/** A short, stable hash of the schedules (and their zone): equal configs hash equal, whatever the key order. */
export function scheduleConfigHash(config: ScheduleConfig): string {
  const canonical = planSchedulers(config)
    .map((s) => `${s.schedulerId}=${s.pattern}@${s.tz}`)
    .sort()
    .join('\n');
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}
