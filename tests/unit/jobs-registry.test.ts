// The job kinds and the pure parts of scheduling: kinds match the config's schedule keys, base-backup kinds exclude
// each other, job data is validated per kind, a due run is named by scheduler and due time, the schedule hash
// ignores order but not content, and only unreachable peers or an abort are retried.
import { describe, expect, it } from 'vitest';
import { JOB_KIND_NAMES } from '../../src/config/index.js';
import { JOB_KINDS, jobKind, kindsConflict } from '../../src/jobs/job-kinds.js';
import { planSchedulers, scheduleConfigHash } from '../../src/jobs/plan-schedulers.js';
import { isRetryableCode } from '../../src/jobs/retry-policy.js';
import { identifyRun } from '../../src/jobs/run-key.js';
import { isLifeboatError } from '../../src/errors/index.js';

const config = (schedules: Record<string, string>, timezone = 'UTC') => ({ clusters: [{ name: 'main', schedules }, { name: 'other', schedules: {} }], schedules: { timezone } });

describe('job kinds', () => {
  it('are exactly the schedule keys of the config', () => {
    expect(Object.keys(JOB_KINDS).sort()).toEqual([...JOB_KIND_NAMES].sort());
    for (const [name, kind] of Object.entries(JOB_KINDS)) expect(kind.name).toBe(name);
  });

  it('full, diff and incr exclude each other; verify excludes nothing', () => {
    for (const a of ['full', 'diff', 'incr']) for (const b of ['full', 'diff', 'incr']) expect(kindsConflict(jobKind(a), jobKind(b))).toBe(true);
    for (const other of JOB_KIND_NAMES) expect(kindsConflict(jobKind('verify'), jobKind(other))).toBe(false);
  });

  it('validate job data per kind and refuse unknown kinds as usage errors', () => {
    expect(jobKind('verify').dataSchema.safeParse({ cluster: 'main', kind: 'verify', backupId: '20261204T000000Z-F' }).success).toBe(true);
    expect(jobKind('full').dataSchema.safeParse({ cluster: 'main', kind: 'full', backupId: 'x' }).success).toBe(false);
    expect(jobKind('full').dataSchema.safeParse({ cluster: 'main', kind: 'incr' }).success).toBe(false);
    expect(jobKind('full').dataSchema.safeParse({ kind: 'full' }).success).toBe(false);
    try {
      jobKind('restore');
      expect.unreachable();
    } catch (error) {
      expect(isLifeboatError(error, 'usage')).toBe(true);
    }
  });
});

describe('run identity', () => {
  it('names a due run by scheduler and due time, whichever delivery carries it', () => {
    const due = Date.parse('2026-12-04T01:00:00Z');
    const first = identifyRun(`repeat:main.full:${due}`, 'jobs.main.full', { cluster: 'main', kind: 'full' });
    expect(first).toEqual({ runKey: 'main.full@2026-12-04T01:00:00.000Z', dueAt: new Date(due) });
    expect(identifyRun(`repeat:main.full:${due}`, 'jobs.main.full', { cluster: 'main', kind: 'full' })).toEqual(first);
  });

  it('keeps the run key of an on-demand run, and falls back to queue and job id', () => {
    expect(identifyRun('manual-1', 'jobs.main.full', { cluster: 'main', kind: 'full', runKey: 'main.full@manual-x' }).runKey).toBe('main.full@manual-x');
    expect(identifyRun('17', 'jobs.main.full', { cluster: 'main', kind: 'full' }).runKey).toBe('jobs.main.full#17');
  });
});

describe('scheduler plan', () => {
  it('plans one scheduler per cluster and scheduled kind, in the configured zone', () => {
    expect(planSchedulers(config({ full: '0 1 * * *', verify: ' 30 2 * * * ' }, 'Europe/Paris'))).toEqual([
      { queue: 'jobs.main.full', schedulerId: 'main.full', cluster: 'main', kind: 'full', pattern: '0 1 * * *', tz: 'Europe/Paris' },
      { queue: 'jobs.main.verify', schedulerId: 'main.verify', cluster: 'main', kind: 'verify', pattern: '30 2 * * *', tz: 'Europe/Paris' },
    ]);
  });

  it('hashes schedules independently of key order, and differently when a schedule or the zone changes', () => {
    const base = scheduleConfigHash(config({ full: '0 1 * * *', incr: '0 * * * *' }));
    expect(scheduleConfigHash(config({ incr: '0 * * * *', full: '0 1 * * *' }))).toBe(base);
    expect(scheduleConfigHash(config({ full: '0 2 * * *', incr: '0 * * * *' }))).not.toBe(base);
    expect(scheduleConfigHash(config({ full: '0 1 * * *', incr: '0 * * * *' }, 'Europe/Paris'))).not.toBe(base);
  });
});

describe('retry policy', () => {
  it('retries unreachable peers and aborts, never config, integrity or key errors', () => {
    for (const code of ['storageUnavailable', 'kmsUnavailable', 'postgresUnavailable', 'aborted'] as const) expect(isRetryableCode(code)).toBe(true);
    for (const code of ['config', 'objectCorrupted', 'wrongKey', 'postgresConfig', 'usage', 'internal', 'locked'] as const) expect(isRetryableCode(code)).toBe(false);
  });
});
