// Locks in Redis held by a running job: its cluster lock groups (full/diff/incr exclude each other) and its run
// (two deliveries of one run never work at once). All keys of a job are taken atomically, each with a lease the
// holder renews; a crashed holder's lease expires, so nothing wedges a cluster. Whoever finds a key taken is told
// the holder, so a skip can name it.
import type { Redis } from 'ioredis';
import { lockKey } from './redis-keys.js';

/** Who holds a lock; stored as the lock's value. `token` makes the value unique to one acquisition. */
export interface LockHolder {
  token: string;
  runKey: string;
  kind: string;
  cluster: string;
  daemonId: string;
  since: string;
}

/** What a job asks to lock: its run, and its cluster lock groups. */
export interface LockRequest {
  prefix: string;
  cluster: string;
  runKey: string;
  groups: readonly string[];
}

export type LockResult =
  | { acquired: true; keys: string[]; value: string }
  /** `conflict` is `run` when the same run is in progress elsewhere, else the lock group held. */
  | { acquired: false; conflict: string; holder: LockHolder | undefined };

const ACQUIRE = `
for i, key in ipairs(KEYS) do
  local held = redis.call('GET', key)
  if held then return {i, held} end
end
for _, key in ipairs(KEYS) do redis.call('SET', key, ARGV[1], 'PX', ARGV[2]) end
return {0, ''}`;

const RENEW = `
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) ~= ARGV[1] then return 0 end
end
for _, key in ipairs(KEYS) do redis.call('PEXPIRE', key, ARGV[2]) end
return 1`;

const RELEASE = `
local n = 0
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then n = n + redis.call('DEL', key) end
end
return n`;

function parseHolder(text: string): LockHolder | undefined {
  try {
    return JSON.parse(text) as LockHolder;
  } catch {
    return undefined;
  }
}

/** The keys of `request`, the run's first: a second delivery of a running run is named as such, not as a skip. */
function keysOf(request: LockRequest): { keys: string[]; names: string[] } {
  const names = ['run', ...request.groups];
  const keys = [lockKey(request.prefix, 'run', request.runKey), ...request.groups.map((group) => lockKey(request.prefix, request.cluster, group))];
  return { keys, names };
}

/** Take every lock of `request` at once for `leaseMs`, or none and learn who holds the first taken one. */
export async function acquireJobLocks(redis: Redis, request: LockRequest, holder: LockHolder, leaseMs: number): Promise<LockResult> {
  const { keys, names } = keysOf(request);
  const value = JSON.stringify(holder);
  const [index, held] = (await redis.eval(ACQUIRE, keys.length, ...keys, value, String(leaseMs))) as [number, string];
  if (index === 0) return { acquired: true, keys, value };
  return { acquired: false, conflict: names[index - 1]!, holder: parseHolder(held) };
}

/** Extend the leases; false when any lock is no longer ours (expired, or taken by another holder since). */
export async function renewJobLocks(redis: Redis, keys: readonly string[], value: string, leaseMs: number): Promise<boolean> {
  return (await redis.eval(RENEW, keys.length, ...keys, value, String(leaseMs))) === 1;
}

/** Release the locks still ours. */
export async function releaseJobLocks(redis: Redis, keys: readonly string[], value: string): Promise<void> {
  await redis.eval(RELEASE, keys.length, ...keys, value);
}

/** The current holder of `group` on `cluster`, for `status`. */
export async function readLockHolder(redis: Redis, prefix: string, cluster: string, group: string): Promise<LockHolder | undefined> {
  const held = await redis.get(lockKey(prefix, cluster, group));
  return held ? parseHolder(held) : undefined;
}
