// The job locks against a real Redis: all-or-nothing acquisition naming the holder, renewal that fails once the
// lock is someone else's, release that never frees another holder's lock, lease expiry of a crashed holder, and
// the lease renewal timer aborting a job whose lock was lost.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireJobLocks, releaseJobLocks, renewJobLocks, type LockHolder } from '../../src/jobs/cluster-lock.js';
import { startLeaseRenewal } from '../../src/jobs/lease-renewal.js';
import { lockKey } from '../../src/jobs/redis-keys.js';
import { createLogger } from '../../src/log/index.js';
import { startRedis, type RedisServer } from '../harness/redis.js';
import { waitFor } from '../harness/wait-for.js';

let server: RedisServer;
let redis: Redis;
let prefix = 0;
const log = createLogger({ level: 'silent' });

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
});

afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

const holder = (runKey: string, kind = 'full'): LockHolder => ({ token: `${runKey}-token`, runKey, kind, cluster: 'main', daemonId: `daemon-of-${runKey}`, since: new Date().toISOString() });

describe('job locks', () => {
  it('take the run and its groups at once, or nothing, naming the holder of the first one taken', async () => {
    const p = `t${prefix++}`;
    const first = await acquireJobLocks(redis, { prefix: p, cluster: 'main', runKey: 'main.full@1', groups: ['base-backup'] }, holder('main.full@1'), 10_000);
    expect(first.acquired).toBe(true);
    const conflict = await acquireJobLocks(redis, { prefix: p, cluster: 'main', runKey: 'main.incr@2', groups: ['base-backup'] }, holder('main.incr@2', 'incr'), 10_000);
    expect(conflict).toMatchObject({ acquired: false, conflict: 'base-backup', holder: { runKey: 'main.full@1', daemonId: 'daemon-of-main.full@1' } });
    // Nothing of the refused request was taken: its run lock is free.
    expect(await redis.get(lockKey(p, 'run', 'main.incr@2'))).toBeNull();
    const again = await acquireJobLocks(redis, { prefix: p, cluster: 'main', runKey: 'main.full@1', groups: ['base-backup'] }, holder('main.full@1'), 10_000);
    expect(again).toMatchObject({ acquired: false, conflict: 'run' });
    // Another cluster and a kind without groups are not in the way.
    expect((await acquireJobLocks(redis, { prefix: p, cluster: 'other', runKey: 'other.full@1', groups: ['base-backup'] }, holder('other.full@1'), 10_000)).acquired).toBe(true);
    expect((await acquireJobLocks(redis, { prefix: p, cluster: 'main', runKey: 'main.verify@1', groups: [] }, holder('main.verify@1', 'verify'), 10_000)).acquired).toBe(true);
  });

  it('renew only while ours; release never frees another holder; a crashed holder expires', async () => {
    const p = `t${prefix++}`;
    const request = { prefix: p, cluster: 'main', runKey: 'main.full@1', groups: ['base-backup'] };
    const lock = await acquireJobLocks(redis, request, holder('main.full@1'), 600);
    if (!lock.acquired) throw new Error('expected the lock');
    expect(await renewJobLocks(redis, lock.keys, lock.value, 600)).toBe(true);
    // Not renewed: the lease runs out and the next job gets the lock.
    await waitFor('lease expiry', async () => (await redis.get(lock.keys[1]!)) === null, { timeoutMs: 5_000, intervalMs: 50 });
    const next = await acquireJobLocks(redis, { ...request, runKey: 'main.incr@2' }, holder('main.incr@2', 'incr'), 10_000);
    expect(next.acquired).toBe(true);
    expect(await renewJobLocks(redis, lock.keys, lock.value, 600)).toBe(false);
    await releaseJobLocks(redis, lock.keys, lock.value);
    expect(JSON.parse((await redis.get(lock.keys[1]!))!)).toMatchObject({ runKey: 'main.incr@2' });
  });

  it('abort a running job when its lock is lost', async () => {
    const p = `t${prefix++}`;
    const lock = await acquireJobLocks(redis, { prefix: p, cluster: 'main', runKey: 'main.full@1', groups: ['base-backup'] }, holder('main.full@1'), 900);
    if (!lock.acquired) throw new Error('expected the lock');
    let lost: string | undefined;
    const renewal = startLeaseRenewal(redis, lock.keys, lock.value, 900, log, (reason) => (lost = reason));
    try {
      // Renewed for several leases while nothing happens.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect(lost).toBeUndefined();
      expect(await redis.pttl(lock.keys[1]!)).toBeGreaterThan(0);
      // Someone else's now (an operator's DEL and another job's SET): the job is told at the next renewal.
      await redis.set(lock.keys[1]!, JSON.stringify(holder('main.incr@9', 'incr')));
      await waitFor('the loss to be noticed', () => lost, { timeoutMs: 3_000, intervalMs: 50 });
      expect(lost).toMatch(/held by another job|expired/);
    } finally {
      renewal.stop();
    }
  });
});
