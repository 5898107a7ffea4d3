// A TCP proxy between Lifeboat daemons and a test Redis that can cut them off, as a network partition or a dead
// Redis host does: pause() drops every open connection and black-holes new ones (accepted, never answered, so
// clients wait out their timeouts rather than failing at once); resume() drops the held ones so clients reconnect.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { RedisServer } from './redis.js';

export interface RedisProxy {
  /** The port the daemons' `redis.url` names (on 127.0.0.1). */
  port: number;
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

export async function startRedisProxy(target: RedisServer): Promise<RedisProxy> {
  let paused = false;
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => undefined);
    if (paused) return; // Black hole: accepted, never answered.
    const upstream = createConnection(target.port, target.host);
    open.add(upstream);
    upstream.on('close', () => {
      open.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const dropAll = (): void => {
    for (const socket of open) socket.destroy();
  };
  return {
    port: (server.address() as { port: number }).port,
    pause: () => {
      paused = true;
      dropAll();
    },
    resume: () => {
      paused = false;
      dropAll();
    },
    close: () => {
      dropAll();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
