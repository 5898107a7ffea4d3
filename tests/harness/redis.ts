// startRedis(): a private, throwaway Redis for a test file (BullMQ queues, locks) on 127.0.0.1, with
// persistence off and its working dir in a temp dir. Uses the local redis-server, or Docker (containers.ts,
// imported lazily) when redis-server is not installed.
import { execFileSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';
import { startServiceProcess, waitUntilServiceReady } from './service-process.js';

/** A running Redis server. */
export interface RedisServer {
  runtime: 'local' | 'container';
  /** Always `127.0.0.1`. */
  host: string;
  port: number;
  /** `redis://127.0.0.1:<port>`. */
  url: string;
  /** Shuts the server down and removes its temp dir. Idempotent. */
  stop(): Promise<void>;
}

function hasLocalRedis(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** True once the server at host:port answers PING (authenticating with `password` if given); never throws. */
export async function pingRedis(host: string, port: number, password?: string): Promise<boolean> {
  const client = new Redis({ host, port, ...(password === undefined ? {} : { password }), lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

async function startLocalRedis(): Promise<RedisServer> {
  for (let attempt = 1; ; attempt++) {
    const dir = await mkdtemp(join(tmpdir(), 'lifeboat-redis-'));
    const port = await freePort();
    const service = startServiceProcess({
      command: 'redis-server',
      args: ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir],
      cwd: dir,
      tempDir: dir,
    });
    try {
      await waitUntilServiceReady(service, `redis-server on port ${port}`, () => pingRedis('127.0.0.1', port), 30_000);
      return { runtime: 'local', host: '127.0.0.1', port, url: `redis://127.0.0.1:${port}`, stop: () => service.stop() };
    } catch (error) {
      await service.stop();
      if (attempt < 3 && /address already in use/i.test(service.outputTail())) continue;
      throw error;
    }
  }
}

/** Starts Redis from the local binary, or in Docker when redis-server is missing but Docker is reachable. */
export async function startRedis(): Promise<RedisServer> {
  if (hasLocalRedis()) return startLocalRedis();
  const containers = await import('./containers.js');
  if (!(await containers.isDockerReachable())) throw new Error('no local redis-server and no reachable Docker engine');
  return containers.startRedisContainer();
}
