// A run's identity, the key that makes runs idempotent: a due run of a schedule is its scheduler and due time
// (BullMQ names the job `repeat:<schedulerId>:<dueMs>`, the same for every daemon and every delivery); an
// on-demand run carries the key `jobs run` gave it.
import type { BaseJobData } from './job-kind.js';

const SCHEDULED_JOB_ID = /^repeat:(.+):(\d+)$/;

export interface RunIdentity {
  runKey: string;
  /** Due time of a scheduled run. */
  dueAt?: Date;
}

export function identifyRun(jobId: string, queue: string, data: BaseJobData): RunIdentity {
  if (data.runKey) return { runKey: data.runKey };
  const scheduled = SCHEDULED_JOB_ID.exec(jobId);
  if (scheduled) {
    const dueAt = new Date(Number(scheduled[2]));
    return { runKey: `${scheduled[1]}@${dueAt.toISOString()}`, dueAt };
  }
  return { runKey: `${queue}#${jobId}` };
}
