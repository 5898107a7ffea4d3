// What a job kind is: its name (also its schedule key), the zod schema its job data must pass when a worker takes
// it, the cluster locks it takes (kinds sharing a lock exclude each other), and the run* function it calls in the
// job's child process. Adding a kind is one file in ./kinds and one line in job-kinds.ts.
import { z } from 'zod';
import type { JobKindName, RuntimeCluster, RuntimeConfig } from '../config/index.js';
import type { Logger } from '../log/index.js';

/**
 * Cluster lock groups. A kind holding a group excludes every other kind holding it on the same cluster.
 * `base-backup`: full/diff/incr write to the backup chain; two at once would race for its tip.
 */
export type LockGroup = 'base-backup';

/** The fields every job carries. `runKey` is set for on-demand runs; scheduled runs derive it from the job. */
export const baseJobDataSchema = z.strictObject({
  cluster: z.string().min(1),
  kind: z.string().min(1),
  runKey: z.string().min(1).max(200).optional(),
  requestedBy: z.string().max(200).optional(),
});
export type BaseJobData = z.infer<typeof baseJobDataSchema>;

/** What a job's run reports back to the daemon (kept in the run record). */
export interface JobSummary {
  /** The backup (or increment) the run produced, if any. */
  backupId?: string;
  /** One line for `status` and `jobs run --wait`. */
  message: string;
  /**
   * True when an earlier delivery of this run already produced `backupId` (found by its run key in the catalog)
   * and nothing new was taken: the daemon died before recording it. The run is recorded done, as a duplicate.
   */
  duplicate?: boolean;
}

/** What the child process hands a kind's run function. */
export interface JobRunContext<Data> {
  config: RuntimeConfig;
  cluster: RuntimeCluster;
  data: Data;
  /** Carries jobId, kind, cluster and runKey on every line. */
  log: Logger;
  /** Aborted when the daemon shuts down, dies, or loses the job's lock. */
  signal: AbortSignal;
  lifeboatVersion: string;
  /** The run's identity (run-key.ts): recorded in the manifest of what the run takes, and looked up before it. */
  runKey: string;
  /** No backup of this run can have started before this (its due or queue time, less a clock-skew margin). */
  runNotBefore: Date;
}

export interface JobKind<Data extends BaseJobData = BaseJobData> {
  readonly name: JobKindName;
  /** Validates job data read from Redis (untrusted: another version of Lifeboat may have queued it). */
  readonly dataSchema: z.ZodType<Data>;
  /** Cluster lock groups held while the job runs. */
  readonly locks: readonly LockGroup[];
  /** Runs in the job's child process; calls the same run* function as the CLI. Load heavy modules lazily. */
  run(context: JobRunContext<Data>): Promise<JobSummary>;
}

/** A kind's data schema: the base fields with `kind` fixed to its name, plus its own. */
export function jobDataSchema<Extra extends z.ZodRawShape>(name: JobKindName, extra: Extra) {
  return baseJobDataSchema.extend({ kind: z.literal(name), ...extra });
}
