// The registry of job kinds: the daemon, `jobs run` and the job child look kinds up here. Its names must match
// the schedule keys of the config (JOB_KIND_NAMES); a unit test holds them together.
import type { JobKindName } from '../config/index.js';
import { LifeboatError } from '../errors/index.js';
import type { BaseJobData, JobKind } from './job-kind.js';
import { diffKind } from './kinds/diff.js';
import { drillKind } from './kinds/drill.js';
import { fullKind } from './kinds/full.js';
import { incrKind } from './kinds/incr.js';
import { verifyKind } from './kinds/verify.js';

/** Every kind, by name. */
export const JOB_KINDS: Readonly<Record<JobKindName, JobKind<BaseJobData>>> = {
  full: fullKind as JobKind<BaseJobData>,
  diff: diffKind as JobKind<BaseJobData>,
  incr: incrKind as JobKind<BaseJobData>,
  verify: verifyKind as JobKind<BaseJobData>,
  drill: drillKind as JobKind<BaseJobData>,
};

/** The kind named `name`, or a usage error listing the kinds. */
export function jobKind(name: string): JobKind<BaseJobData> {
  const kind = (JOB_KINDS as Record<string, JobKind<BaseJobData> | undefined>)[name];
  if (!kind) throw new LifeboatError('usage', `unknown job kind "${name}"`, { hint: `kinds: ${Object.keys(JOB_KINDS).join(', ')}` });
  return kind;
}

/** True when `a` and `b` may not run at once on one cluster (they share a lock group). */
export function kindsConflict(a: JobKind<BaseJobData>, b: JobKind<BaseJobData>): boolean {
  return a.locks.some((group) => b.locks.includes(group));
}
