// Every Redis key and BullMQ queue name Lifeboat uses, in one place (as BullMQ keeps its own in queue-keys), so
// that the daemon, `jobs run` and `status` agree, and `redis.prefix` separates installations sharing a Redis.
import type { JobKindName } from '../config/index.js';

/** BullMQ's own key prefix: its keys are `<prefix>:bull:<queue>:...`. */
export function bullPrefix(prefix: string): string {
  return `${prefix}:bull`;
}

/**
 * One queue per cluster and kind, so that a daemon takes only the work it is placed for (`daemon.jobs`,
 * `daemon.clusters`) by running workers on those queues alone. Cluster names hold no ".".
 */
export function queueName(cluster: string, kind: JobKindName): string {
  return `jobs.${cluster}.${kind}`;
}

/** The scheduler of `kind` for `cluster` (one per queue). Its due runs are `repeat:<schedulerId>:<dueMs>` jobs. */
export function schedulerId(cluster: string, kind: JobKindName): string {
  return `${cluster}.${kind}`;
}

/** Set of every queue name ever configured, so that schedules of a removed cluster or kind can be removed too. */
export function knownQueuesKey(prefix: string): string {
  return `${prefix}:queues`;
}

/** Hash holding one run's record (state, daemon, times, outcome). */
export function runRecordKey(prefix: string, runKey: string): string {
  return `${prefix}:run:${runKey}`;
}

/** Sorted set of run keys by last update (ms), newest last: the recent-runs index `status` reads. */
export function runIndexKey(prefix: string): string {
  return `${prefix}:runs`;
}

/** A lock taken by a job: a cluster lock group (`base-backup`), or the run itself (one delivery at a time). */
export function lockKey(prefix: string, scope: string, name: string): string {
  return `${prefix}:lock:${scope}:${name}`;
}

/** Sorted set of daemon ids by last heartbeat (ms). */
export function daemonsKey(prefix: string): string {
  return `${prefix}:daemons`;
}

/** Hash of daemon id -> JSON description (host, pid, roles, schedule config hash). */
export function daemonInfoKey(prefix: string): string {
  return `${prefix}:daemon-info`;
}

/** Set of paused scheduler ids (`schedules pause`): reconciling leaves them out until `schedules resume`. */
export function pausedSchedulersKey(prefix: string): string {
  return `${prefix}:paused-schedules`;
}

/** The lease electing the daemon that archives `cluster`'s WAL; its value is the holder's daemon id. */
export function archiverLeaseKey(prefix: string, cluster: string): string {
  return `${prefix}:archiver:${cluster}:lease`;
}

/** Hash the archiver lease holder publishes each renewal: its daemon id and its archiver's state (position, lag). */
export function archiverStateKey(prefix: string, cluster: string): string {
  return `${prefix}:archiver:${cluster}:state`;
}

/** Claim on the current drill-heartbeat interval of `cluster`: the daemon whose id it holds writes this beat. */
export function heartbeatClaimKey(prefix: string, cluster: string): string {
  return `${prefix}:heartbeat:${cluster}:claim`;
}
