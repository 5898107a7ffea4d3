// Which daemon writes a cluster's drill heartbeat this interval: a Redis key per cluster, set with an expiry a
// little shorter than the interval, so that across any number of daemons about one row per interval is written.
// Deduplication only: a daemon that cannot reach Redis writes anyway (see src/daemon/heartbeat-writer.ts).
import type { Redis } from 'ioredis';
import { heartbeatClaimKey } from './redis-keys.js';

/**
 * SET NX PX, also granted when the key already names us: a claim sent while Redis was away may be applied late,
 * when it returns, and must not then hold the other daemons off an interval in which we no longer write.
 */
const CLAIM = `
local held = redis.call('GET', KEYS[1])
if held and held ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

/** True when this daemon writes the beat: nobody claimed the current interval, or we did. */
export async function claimHeartbeat(redis: Redis, prefix: string, cluster: string, daemonId: string, claimMs: number): Promise<boolean> {
  return (await redis.eval(CLAIM, 1, heartbeatClaimKey(prefix, cluster), daemonId, String(claimMs))) === 1;
}

/**
 * How long a claim lasts for beats every `intervalMs`: a tenth shorter, so the claimer's own next tick (one
 * interval later, give or take timer jitter) finds it expired and claims again; meanwhile every other daemon's
 * tick finds it held. Writes are thus at least this far apart, and a claimer that died is replaced at its next
 * missed tick.
 */
export function heartbeatClaimMs(intervalMs: number): number {
  return Math.max(1, Math.floor(intervalMs * 0.9));
}
