// What `lifeboat status` shows, gathered: per cluster the last successful run of each kind (backups from the
// repository's catalog, so it is right after any restart; verify from the run records), the next scheduled runs
// (as BullMQ holds them, flagged when a configured schedule is missing in Redis), running jobs with their daemon,
// recent failures and skips with reasons, and the daemons alive.
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RuntimeConfig } from '../config/index.js';
import { createDecryptionSession } from '../crypto/index.js';
import { describeError } from '../errors/index.js';
import { describeCluster, type ClusterCatalog } from '../repository/describe-cluster.js';
import type { Repository } from '../repository/open-repository.js';
import { readArchiverStatus, type ArchiverStatus } from './read-archiver-status.js';
import { listAliveDaemons, type AliveDaemon } from './daemon-registry.js';
import { listPausedSchedules } from './pause-schedules.js';
import { planSchedulers } from './plan-schedulers.js';
import { listRecentRuns, type RunRecord } from './run-record.js';

export interface LastRun {
  /** When it ended (ISO). */
  at: string;
  ageSeconds: number;
  backupId?: string;
}

export interface ClusterStatus {
  cluster: string;
  /** Last successful run per kind; absent kinds never succeeded (or their record expired, for verify). */
  lastSuccess: Partial<Record<'full' | 'incr' | 'diff' | 'verify', LastRun>>;
  /** Recoverable window from the catalog, when a full backup exists. */
  window?: ClusterCatalog['window'];
  /** Repository problem reading the catalog, if any. */
  catalogError?: string;
  /** `paused`: by `schedules pause`; `missingInRedis`: configured, not paused, yet no scheduler (no daemon reconciled). */
  next: { kind: string; schedule: string; nextRunAt?: string; paused: boolean; missingInRedis: boolean }[];
  running: RunRecord[];
  recentProblems: RunRecord[];
  /** The daemon archiving the cluster's WAL (its lease) and the state it published; `{}` when none does. */
  archiver: ArchiverStatus;
}

export interface DaemonStatus {
  generatedAt: string;
  clusters: ClusterStatus[];
  daemons: AliveDaemon[];
}

const RECENT_PROBLEMS = 10;

function lastRun(at: string | undefined, now: Date, backupId?: string): LastRun | undefined {
  if (!at) return undefined;
  return { at, ageSeconds: Math.max(0, Math.round((now.getTime() - Date.parse(at)) / 1000)), ...(backupId ? { backupId } : {}) };
}

export async function readStatus(options: {
  config: RuntimeConfig;
  redis: Redis;
  prefix: string;
  repository: Repository;
  /** The queue of a scheduler, for its next run. */
  queueOf: (name: string) => Queue;
  signal: AbortSignal;
  now?: Date;
}): Promise<DaemonStatus> {
  const { config, redis, prefix } = options;
  const now = options.now ?? new Date();
  const records = await listRecentRuns(redis, prefix, 2000);
  const schedulers = planSchedulers(config);
  const paused = new Set(await listPausedSchedules(redis, prefix));
  const clusters: ClusterStatus[] = [];
  for (const cluster of config.clusters) {
    const status: ClusterStatus = { cluster: cluster.name, lastSuccess: {}, next: [], running: [], recentProblems: [], archiver: await readArchiverStatus(redis, prefix, cluster.name) };
    const session = createDecryptionSession(options.repository.keys, { expectedScope: { cluster: cluster.name }, signal: options.signal });
    try {
      const catalog = await describeCluster(options.repository.storage, session, cluster.name, options.signal);
      const full = catalog.backups.filter((b) => b.type === 'full').at(-1);
      const increment = catalog.backups.filter((b) => b.type === 'incremental').at(-1);
      const fullRun = lastRun(full?.stopTime, now, full?.backupId);
      const incrRun = lastRun(increment?.stopTime, now, increment?.backupId);
      if (fullRun) status.lastSuccess.full = fullRun;
      // Today diff and incr both seal WAL into an increment; the catalog cannot tell them apart.
      if (incrRun) status.lastSuccess.incr = status.lastSuccess.diff = incrRun;
      if (catalog.window) status.window = catalog.window;
    } catch (error) {
      status.catalogError = describeError(error);
    } finally {
      session.close();
    }
    const ours = records.filter((r) => r.cluster === cluster.name);
    const verified = ours.find((r) => r.kind === 'verify' && r.state === 'done');
    const verifyRun = lastRun(verified?.endedAt, now);
    if (verifyRun) status.lastSuccess.verify = verifyRun;
    for (const scheduler of schedulers.filter((s) => s.cluster === cluster.name)) {
      const held = await options.queueOf(scheduler.queue).getJobScheduler(scheduler.schedulerId);
      status.next.push({
        kind: scheduler.kind,
        schedule: scheduler.pattern,
        ...(held?.next ? { nextRunAt: new Date(held.next).toISOString() } : {}),
        paused: paused.has(scheduler.schedulerId),
        missingInRedis: !held && !paused.has(scheduler.schedulerId),
      });
    }
    status.running = ours.filter((r) => r.state === 'running');
    status.recentProblems = ours.filter((r) => r.state === 'failed' || r.state === 'skipped' || r.state === 'retrying').slice(0, RECENT_PROBLEMS);
    clusters.push(status);
  }
  return { generatedAt: now.toISOString(), clusters, daemons: await listAliveDaemons(redis, prefix, now.getTime()) };
}
