// The BullMQ queues of a config (one per cluster and kind), opened with the installation's prefix and the default
// job options (retries with backoff, bounded history), and the on-demand enqueue of `jobs run`.
import { randomUUID } from 'node:crypto';
import { Queue, type ConnectionOptions } from 'bullmq';
import type { JobKindName } from '../config/index.js';
import { DEFAULT_JOB_OPTIONS } from './retry-policy.js';
import { bullPrefix, queueName } from './redis-keys.js';

export function openQueue(name: string, connection: ConnectionOptions, prefix: string): Queue {
  return new Queue(name, { connection, prefix: bullPrefix(prefix), defaultJobOptions: DEFAULT_JOB_OPTIONS });
}

/** Queue an on-demand run; returns its run key (what `jobs run --wait` follows). */
export async function enqueueRun(queue: Queue, cluster: string, kind: JobKindName, requestedBy: string): Promise<{ runKey: string; jobId: string }> {
  const runKey = `${cluster}.${kind}@manual-${randomUUID()}`;
  const job = await queue.add(kind, { cluster, kind, runKey, requestedBy }, { jobId: `manual-${randomUUID()}` });
  return { runKey, jobId: job.id ?? '' };
}

export { queueName };
