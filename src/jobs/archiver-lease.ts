// The Redis lease electing one daemon to archive a cluster's WAL. Taken with SET NX PX; renewed by a script that
// extends it only while it still names us (and takes it again if it expired with nobody else taking it), so a
// holder learns it lost the lease exactly when another daemon holds it. Election only: safety comes from the slot.
import type { Redis } from 'ioredis';
import { archiverLeaseKey } from './redis-keys.js';

/** `held`: ours (extended or taken again); `lost`: another daemon holds it. */
export type LeaseRenewal = 'held' | 'lost';

const RENEW = `
local held = redis.call('GET', KEYS[1])
if held == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not held then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * True when the lease was free and is now ours, or already names us: an earlier attempt that timed out while Redis
 * was unreachable may have run when it came back, and must not leave a lease nobody acts on until it expires.
 */
export async function acquireArchiverLease(redis: Redis, prefix: string, cluster: string, daemonId: string, leaseMs: number): Promise<boolean> {
  const key = archiverLeaseKey(prefix, cluster);
  if ((await redis.set(key, daemonId, 'PX', leaseMs, 'NX')) === 'OK') return true;
  return (await renewArchiverLease(redis, prefix, cluster, daemonId, leaseMs)) === 'held';
}

export async function renewArchiverLease(redis: Redis, prefix: string, cluster: string, daemonId: string, leaseMs: number): Promise<LeaseRenewal> {
  const result = await redis.eval(RENEW, 1, archiverLeaseKey(prefix, cluster), daemonId, String(leaseMs));
  return result === 1 ? 'held' : 'lost';
}

/** Frees the lease if it is still ours (a graceful stop), so another daemon takes over at once. */
export async function releaseArchiverLease(redis: Redis, prefix: string, cluster: string, daemonId: string): Promise<void> {
  await redis.eval(RELEASE, 1, archiverLeaseKey(prefix, cluster), daemonId);
}

/** The daemon id holding the lease, if any. */
export async function readArchiverLeaseHolder(redis: Redis, prefix: string, cluster: string): Promise<string | undefined> {
  return (await redis.get(archiverLeaseKey(prefix, cluster))) ?? undefined;
}
