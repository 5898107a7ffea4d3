// Connections to the daemons' Redis, following BullMQ's production guidance: workers and the daemon wait for Redis
// forever (maxRetriesPerRequest: null, reconnect with capped backoff), one-shot commands (`jobs run`, `status`)
// fail fast with `redisUnavailable`. The password comes from a secret reference, never from the URL.
import { Redis, type RedisOptions } from 'ioredis';
import type { RuntimeConfig } from '../config/index.js';
import { LifeboatError } from '../errors/index.js';

/** The config's redis section with the password resolved; a config error when it is absent. */
export type RuntimeRedis = NonNullable<RuntimeConfig['redis']>;

export function requireRedisConfig(config: RuntimeConfig, purpose: string): RuntimeRedis {
  if (!config.redis) {
    throw new LifeboatError('config', `${purpose} needs Redis, and ${config.configPath} has no redis section`, {
      hint: 'add redis: { url: redis://HOST:6379/0 } (see README "Configuration reference")',
    });
  }
  return config.redis;
}

/** Connection options for `mode`: `daemon` waits out Redis outages, `command` gives up after a few seconds. */
/** ioredis options that BullMQ accepts too (its type refuses ioredis's `retryStrategy: null`). */
export type RedisConnectionOptions = RedisOptions & { retryStrategy: (times: number) => number | null };

export function redisOptions(redis: RuntimeRedis, mode: 'daemon' | 'command'): RedisConnectionOptions {
  const url = new URL(redis.url);
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
  return {
    host: url.hostname,
    port: url.port ? Number(url.port) : 6379,
    db: Number.isInteger(db) ? db : 0,
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(redis.password ? { password: redis.password.reveal() } : {}),
    ...(url.protocol === 'rediss:' ? { tls: { servername: url.hostname } } : {}),
    connectionName: 'lifeboat',
    ...(mode === 'daemon'
      ? { maxRetriesPerRequest: null, retryStrategy: (times: number) => Math.min(200 * times, 5_000) }
      : { maxRetriesPerRequest: 1, connectTimeout: 5_000, retryStrategy: (times: number) => (times > 3 ? null : 250 * times) }),
  };
}

/** A connected client for a one-shot command; `redisUnavailable` naming the URL's host when Redis does not answer. */
export async function connectRedis(redis: RuntimeRedis): Promise<Redis> {
  const client = new Redis({ ...redisOptions(redis, 'command'), lazyConnect: true });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return client;
  } catch (error) {
    client.disconnect();
    const url = new URL(redis.url);
    throw new LifeboatError('redisUnavailable', `cannot reach Redis at ${url.host}: ${error instanceof Error ? error.message : String(error)}`, {
      hint: 'start Redis or fix redis.url / redis.password in the config',
      cause: error,
    });
  }
}
