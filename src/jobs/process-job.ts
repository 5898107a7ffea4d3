// The worker's processor, an adapter: validate the job data, find the run's record (a second delivery of a run
// already done or skipped counts itself as a duplicate), take the run's and the cluster's locks (a conflict
// skips the run, naming the holder), run the job in a child process under a renewed lease, record the outcome.
// Retryable failures are thrown for BullMQ's backoff; the others as UnrecoverableError.
import { randomUUID } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RuntimeConfig } from '../config/index.js';
import { ERROR_CODES, isLifeboatError, type ErrorCode } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import { acquireJobLocks, releaseJobLocks, type LockHolder } from './cluster-lock.js';
import { baseJobDataSchema, type JobSummary } from './job-kind.js';
import { JOB_KINDS } from './job-kinds.js';
import { startLeaseRenewal } from './lease-renewal.js';
import { isRetryableCode } from './retry-policy.js';
import { identifyRun } from './run-key.js';
import { runJobChild } from './run-job-child.js';
import { countDuplicate, isFinalState, loadRunRecord, storeRunRecord } from './run-record.js';

export interface ProcessJobDeps {
  config: RuntimeConfig;
  redis: Redis;
  prefix: string;
  daemonId: string;
  lifeboatVersion: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** Aborted when the daemon's shutdown timeout passes: running jobs abort and clean up. */
  shutdownSignal: AbortSignal;
  onSpawn?: (child: ChildProcess) => void;
  /** Told every outcome (for the daemon's metrics); must not throw. */
  onOutcome?: (event: { cluster: string; kind: string; outcome: JobOutcome['outcome'] | 'failed' | 'retrying'; errorCode?: ErrorCode }) => void;
}

/** What a processed job returns (BullMQ keeps it as the job's return value). */
export interface JobOutcome {
  outcome: 'done' | 'skipped' | 'duplicate';
  runKey: string;
  backupId?: string;
  message: string;
}

/** Clocks of the daemons and job hosts may disagree by this much; a run's backup is looked for this far back. */
const CLOCK_SKEW_MARGIN_MS = 60 * 60 * 1000;

function describeHolder(holder: LockHolder | undefined): string {
  return holder ? `${holder.kind} run ${holder.runKey} on daemon ${holder.daemonId} (since ${holder.since})` : 'an unknown holder';
}

export async function processJob(job: Job, deps: ProcessJobDeps): Promise<JobOutcome> {
  if (!deps.onOutcome) return processJobOnce(job, deps);
  const report = deps.onOutcome;
  const data = job.data as { cluster?: unknown; kind?: unknown };
  const labels = { cluster: String(data.cluster ?? ''), kind: String(data.kind ?? '') };
  try {
    const result = await processJobOnce(job, deps);
    report({ ...labels, outcome: result.outcome });
    return result;
  } catch (error) {
    // The code is the prefix of the thrown message (`code: message`), as the catch below writes it.
    const prefix = error instanceof Error ? /^(\w+): /.exec(error.message)?.[1] : undefined;
    const code: ErrorCode = prefix !== undefined && prefix in ERROR_CODES ? (prefix as ErrorCode) : 'internal';
    const retrying = !(error instanceof UnrecoverableError) && job.attemptsMade + 1 < (job.opts.attempts ?? 1);
    report({ ...labels, outcome: retrying ? 'retrying' : 'failed', errorCode: code });
    throw error;
  }
}

async function processJobOnce(job: Job, deps: ProcessJobDeps): Promise<JobOutcome> {
  // 1. Job data comes from Redis: validate it against its kind before anything else (invalid never retries).
  const base = baseJobDataSchema.safeParse(job.data);
  const kind = base.success ? (JOB_KINDS as Record<string, (typeof JOB_KINDS)['full'] | undefined>)[base.data.kind] : undefined;
  const parsed = kind?.dataSchema.safeParse(job.data);
  if (!kind || !parsed?.success) {
    throw new UnrecoverableError(`invalid job data for job ${job.id}: ${base.success ? (parsed?.error?.message ?? `unknown kind "${base.data.kind}"`) : base.error.message}`);
  }
  const data = parsed.data;
  if (!deps.config.clusters.some((cluster) => cluster.name === data.cluster)) {
    throw new UnrecoverableError(`cluster "${data.cluster}" is not in this daemon's config`);
  }
  const { runKey, dueAt } = identifyRun(job.id ?? '', job.queueName, data);
  const log = deps.log.child({ jobId: job.id, kind: kind.name, cluster: data.cluster, runKey });
  const { redis, prefix } = deps;
  const common = { runKey, kind: kind.name, cluster: data.cluster, ...(dueAt ? { dueAt: dueAt.toISOString() } : {}) };

  // 2. Idempotency: a run already done or skipped is not run again, whoever delivers it.
  const duplicate = async (state: string): Promise<JobOutcome> => {
    await countDuplicate(redis, prefix, runKey);
    log.warn({ state }, 'second delivery of a run already handled; recorded as a duplicate');
    return { outcome: 'duplicate', runKey, message: `duplicate delivery of a run already ${state}` };
  };
  const existing = await loadRunRecord(redis, prefix, runKey);
  if (existing && isFinalState(existing.state)) return duplicate(existing.state);

  // 3. The run's lock and the kind's cluster locks, all at once; a conflict skips the run and names the holder.
  const leaseMs = deps.config.daemon.lockLeaseSeconds * 1000;
  const holder: LockHolder = { token: randomUUID(), runKey, kind: kind.name, cluster: data.cluster, daemonId: deps.daemonId, since: new Date().toISOString() };
  const lock = await acquireJobLocks(redis, { prefix, cluster: data.cluster, runKey, groups: kind.locks }, holder, leaseMs);
  if (!lock.acquired) {
    if (lock.conflict === 'run') return duplicate('running');
    const message = `skipped: the ${lock.conflict} lock of cluster "${data.cluster}" is held by ${describeHolder(lock.holder)}`;
    await storeRunRecord(redis, prefix, { ...common, state: 'skipped', jobId: job.id, daemonId: deps.daemonId, endedAt: new Date().toISOString(), message });
    log.warn({ holder: lock.holder }, message);
    return { outcome: 'skipped', runKey, message };
  }

  try {
    // 4. The first delivery may have finished between the check above and the lock: check again under the lock.
    const again = await loadRunRecord(redis, prefix, runKey);
    if (again && isFinalState(again.state)) return await duplicate(again.state);
    await storeRunRecord(redis, prefix, { ...common, state: 'running', jobId: job.id, daemonId: deps.daemonId, startedAt: new Date().toISOString(), attempt: job.attemptsMade + 1 });
    log.info({ attempt: job.attemptsMade + 1 }, 'job started');

    // 5. The run itself, in a child process, aborted when the lease is lost or the shutdown timeout passes.
    const controller = new AbortController();
    const onShutdown = (): void => controller.abort(new Error('the daemon is shutting down and its timeout passed'));
    deps.shutdownSignal.addEventListener('abort', onShutdown, { once: true });
    if (deps.shutdownSignal.aborted) onShutdown();
    const renewal = startLeaseRenewal(redis, lock.keys, lock.value, leaseMs, log, (reason) => controller.abort(new Error(`lost the job's lock: ${reason}`)));
    let summary: JobSummary;
    try {
      summary = await runJobChild({
        configPath: deps.config.configPath,
        kind: kind.name,
        data,
        jobId: job.id ?? '',
        runKey,
        runNotBefore: new Date((dueAt?.getTime() ?? job.timestamp) - CLOCK_SKEW_MARGIN_MS),
        daemonId: deps.daemonId,
        lifeboatVersion: deps.lifeboatVersion,
        env: deps.env,
        log,
        signal: controller.signal,
        killGraceMs: Math.max(10_000, leaseMs),
        ...(deps.onSpawn ? { onSpawn: deps.onSpawn } : {}),
      });
    } finally {
      renewal.stop();
      deps.shutdownSignal.removeEventListener('abort', onShutdown);
    }

    // 6. Done: the record makes any later delivery of this run a duplicate. A run whose backup the repository
    //    already held (its daemon died before recording it) is done with that backup, and counted a duplicate.
    if (summary.duplicate) {
      await storeRunRecord(redis, prefix, { ...common, state: 'done', endedAt: new Date().toISOString(), message: summary.message, ...(summary.backupId ? { backupId: summary.backupId } : {}) });
      await countDuplicate(redis, prefix, runKey);
      log.warn({ backupId: summary.backupId }, 'the repository already holds this run\'s backup; recorded as done, a duplicate');
      return { outcome: 'duplicate', runKey, message: summary.message, ...(summary.backupId ? { backupId: summary.backupId } : {}) };
    }
    await storeRunRecord(redis, prefix, { ...common, state: 'done', endedAt: new Date().toISOString(), message: summary.message, ...(summary.backupId ? { backupId: summary.backupId } : {}) });
    log.info({ ...(summary.backupId ? { backupId: summary.backupId } : {}) }, 'job done');
    return { outcome: 'done', runKey, message: summary.message, ...(summary.backupId ? { backupId: summary.backupId } : {}) };
  } catch (error) {
    const code: ErrorCode = isLifeboatError(error) ? error.code : 'internal';
    const message = error instanceof Error ? error.message : String(error);
    const retrying = isRetryableCode(code) && job.attemptsMade + 1 < (job.opts.attempts ?? 1);
    await storeRunRecord(redis, prefix, { ...common, state: retrying ? 'retrying' : 'failed', endedAt: new Date().toISOString(), errorCode: code, message }).catch(() => undefined);
    log.error({ code, retrying }, `job failed: ${message}`);
    if (!isRetryableCode(code)) throw new UnrecoverableError(`${code}: ${message}`);
    throw new Error(`${code}: ${message}`);
  } finally {
    await releaseJobLocks(redis, lock.keys, lock.value).catch((error: unknown) => log.warn({ err: error }, 'cannot release the job locks; their lease will expire'));
  }
}
