// The daemon's HTTP endpoints on daemon.listen: /healthz answers while the process runs (a liveness probe must
// not depend on Redis, or a Redis outage restarts every daemon), /readyz when Redis and the repository answer,
// /metrics (when given) the Prometheus exposition.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LifeboatError } from '../errors/index.js';

export interface HealthServer {
  /** The address actually bound (port 0 picks one). */
  readonly address: string;
  close(): Promise<void>;
}

/** Each probe resolves with nothing when its peer answers, or throws naming the problem. */
export type ReadinessProbe = () => Promise<void>;

const PROBE_TIMEOUT_MS = 3_000;

function withTimeout(probe: ReadinessProbe): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
    probe().then(resolve, reject).finally(() => clearTimeout(timer));
  });
}

/** Renders the Prometheus exposition text. */
export interface MetricsSource {
  readonly contentType: string;
  render(): Promise<string>;
}

export async function startHealthServer(listen: string, probes: Record<string, ReadinessProbe>, metrics?: MetricsSource): Promise<HealthServer> {
  const colon = listen.lastIndexOf(':');
  const host = listen.slice(0, colon);
  const port = Number(listen.slice(colon + 1));
  const server: Server = createServer((request, response) => {
    const reply = (status: number, body: unknown): void => {
      response.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
    };
    if (request.method !== 'GET') return reply(405, { error: 'GET only' });
    if (request.url === '/healthz') return reply(200, { status: 'ok' });
    if (request.url === '/readyz') {
      void Promise.all(
        Object.entries(probes).map(async ([name, probe]) => {
          try {
            await withTimeout(probe);
            return [name, 'ok'] as const;
          } catch (error) {
            return [name, error instanceof Error ? error.message : String(error)] as const;
          }
        }),
      ).then((results) => {
        const checks = Object.fromEntries(results);
        reply(results.every(([, state]) => state === 'ok') ? 200 : 503, { status: results.every(([, s]) => s === 'ok') ? 'ready' : 'not ready', checks });
      });
      return;
    }
    if (request.url === '/metrics' && metrics) {
      metrics.render().then(
        (text) => void response.writeHead(200, { 'content-type': metrics.contentType }).end(text),
        (error: unknown) => reply(500, { error: error instanceof Error ? error.message : String(error) }),
      );
      return;
    }
    reply(404, { error: 'not found; try /healthz, /readyz or /metrics' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new LifeboatError('config', `cannot listen on daemon.listen ${listen}: ${error.message}`, { hint: 'pick a free HOST:PORT for daemon.listen (port 0 picks one)' })),
    );
    server.listen({ host, port }, resolve);
  });
  const bound = server.address() as AddressInfo;
  return {
    address: `${bound.address}:${bound.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
