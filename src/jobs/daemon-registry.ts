// The daemons alive on a Redis: each one beats every HEARTBEAT_MS with its id, host, roles and schedule config
// hash; `status` lists those seen recently. Each beat compares hashes and warns loudly while daemons disagree:
// every daemon reconciles the schedulers with its own config, so two configs would undo each other's schedules.
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Logger } from '../log/index.js';
import { daemonInfoKey, daemonsKey } from './redis-keys.js';

export const HEARTBEAT_MS = 5_000;
/** A daemon not seen for this long is not alive. */
export const DAEMON_ALIVE_MS = 3 * HEARTBEAT_MS;
/** A daemon not seen for this long is forgotten (every start registers a new id). */
const FORGET_AFTER_MS = 24 * 3600 * 1000;

const daemonInfoSchema = z.object({
  id: z.string(),
  host: z.string(),
  pid: z.number(),
  jobs: z.array(z.string()),
  clusters: z.array(z.string()),
  scheduleHash: z.string(),
  version: z.string(),
  startedAt: z.string(),
});
export type DaemonInfo = z.infer<typeof daemonInfoSchema>;
export type AliveDaemon = DaemonInfo & { lastSeen: string };

export async function listAliveDaemons(redis: Redis, prefix: string, nowMs = Date.now()): Promise<AliveDaemon[]> {
  const entries = await redis.zrangebyscore(daemonsKey(prefix), nowMs - DAEMON_ALIVE_MS, '+inf', 'WITHSCORES');
  const alive: AliveDaemon[] = [];
  for (let i = 0; i < entries.length; i += 2) {
    const text = await redis.hget(daemonInfoKey(prefix), entries[i]!);
    const parsed = text ? daemonInfoSchema.safeParse(JSON.parse(text)) : undefined;
    if (parsed?.success) alive.push({ ...parsed.data, lastSeen: new Date(Number(entries[i + 1])).toISOString() });
  }
  return alive;
}

export interface Heartbeat {
  stop(): Promise<void>;
}

export async function startHeartbeat(redis: Redis, prefix: string, info: DaemonInfo, log: Logger): Promise<Heartbeat> {
  let warnedAbout = '';
  const beat = async (): Promise<void> => {
    const now = Date.now();
    const forgotten = await redis.zrangebyscore(daemonsKey(prefix), '-inf', now - FORGET_AFTER_MS);
    if (forgotten.length > 0) await redis.multi().zrem(daemonsKey(prefix), ...forgotten).hdel(daemonInfoKey(prefix), ...forgotten).exec();
    await redis
      .multi()
      .zadd(daemonsKey(prefix), now, info.id)
      .hset(daemonInfoKey(prefix), info.id, JSON.stringify(info))
      .exec();
    const alive = await listAliveDaemons(redis, prefix, now);
    const others = alive.filter((d) => d.scheduleHash !== info.scheduleHash);
    const signature = others.map((d) => `${d.id}=${d.scheduleHash}`).sort().join(',');
    if (others.length > 0 && signature !== warnedAbout) {
      log.error(
        { scheduleHash: info.scheduleHash, disagreeing: others.map((d) => ({ id: d.id, host: d.host, scheduleHash: d.scheduleHash })) },
        'DAEMONS DISAGREE ON THE SCHEDULES: they run different configs and will undo each other\'s job schedulers; give every daemon the same schedules',
      );
    }
    warnedAbout = signature;
  };
  await beat();
  const timer = setInterval(() => void beat().catch((error: unknown) => log.warn({ err: error }, 'heartbeat failed')), HEARTBEAT_MS);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await redis.multi().zrem(daemonsKey(prefix), info.id).hdel(daemonInfoKey(prefix), info.id).exec();
    },
  };
}
