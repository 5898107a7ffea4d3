// Follows one run until it ends, for `jobs run --wait`: reads its record (written by whichever daemon takes it)
// and, for a job refused before any record (invalid data), BullMQ's own state of the job.
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { ERROR_CODES, LifeboatError, type ErrorCode } from '../errors/index.js';
import { loadRunRecord, type RunRecord } from './run-record.js';

const POLL_MS = 500;

/** The final record of the run: done, or skipped. Failures throw their recorded code. */
export async function waitForRun(redis: Redis, queue: Queue, prefix: string, runKey: string, jobId: string, signal: AbortSignal): Promise<RunRecord> {
  for (;;) {
    const record = await loadRunRecord(redis, prefix, runKey);
    if (record?.state === 'done') return record;
    if (record?.state === 'skipped') {
      throw new LifeboatError('locked', record.message ?? 'the run was skipped', { hint: 'run it again when the job holding the lock has finished' });
    }
    if (record?.state === 'failed') {
      const code = (record.errorCode && record.errorCode in ERROR_CODES ? record.errorCode : 'internal') as ErrorCode;
      throw new LifeboatError(code, `the ${record.kind} run failed: ${record.message ?? 'no message'}`, { hint: 'the daemon\'s log lines with this runKey tell more' });
    }
    if (!record) {
      const job = await queue.getJob(jobId);
      if (job && (await job.isFailed())) throw new LifeboatError('usage', `the daemon refused the job: ${job.failedReason}`);
    }
    if (signal.aborted) {
      throw new LifeboatError('aborted', `stopped waiting for run ${runKey}; it continues on the daemons`, { hint: 'lifeboat status shows it' });
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, POLL_MS);
      signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
  }
}
