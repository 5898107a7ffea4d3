// Who archives a cluster's WAL, and how far it got: the archiver lease's holder, and the state (archived position,
// lag) that holder last published from its archiver-state.json. For `lifeboat status` and /metrics.
import type { Redis } from 'ioredis';
import { readArchiverLeaseHolder } from './archiver-lease.js';
import { archiverLeaseKey, archiverStateKey } from './redis-keys.js';

export interface ArchiverStatus {
  /** Daemon id holding the lease; absent when no daemon archives the cluster. */
  holder?: string;
  /** When the holder last published its state (ISO). */
  publishedAt?: string;
  lastArchivedLsn?: string;
  lastArchivedSegment?: string;
  lagBytes?: number;
  lagSeconds?: number;
  receiverRunning?: boolean;
  lastError?: string;
}

export async function readArchiverStatus(redis: Redis, prefix: string, cluster: string): Promise<ArchiverStatus> {
  const holder = await readArchiverLeaseHolder(redis, prefix, cluster);
  if (holder === undefined) return {};
  const published = await redis.hgetall(archiverStateKey(prefix, cluster));
  // The state of a previous holder says nothing about this one.
  if (published.daemonId !== holder) return { holder };
  const status: ArchiverStatus = { holder, ...(published.publishedAt ? { publishedAt: published.publishedAt } : {}) };
  if (published.state) {
    try {
      const state = JSON.parse(published.state) as Partial<Record<keyof ArchiverStatus, unknown>>;
      if (typeof state.lastArchivedLsn === 'string') status.lastArchivedLsn = state.lastArchivedLsn;
      if (typeof state.lastArchivedSegment === 'string') status.lastArchivedSegment = state.lastArchivedSegment;
      if (typeof state.lagBytes === 'number') status.lagBytes = state.lagBytes;
      if (typeof state.lagSeconds === 'number') status.lagSeconds = state.lagSeconds;
      if (typeof state.receiverRunning === 'boolean') status.receiverRunning = state.receiverRunning;
      if (typeof state.lastError === 'string') status.lastError = state.lastError;
    } catch {
      // A torn or foreign value: the holder alone is still worth showing.
    }
  }
  return status;
}

/**
 * The lease holder of each of `clusters` (absent: no daemon holds it), in one round trip; what /metrics exports,
 * so every daemon reports the same holder. Throws when Redis does not answer within `timeoutMs` (a scrape must
 * not wait for a Redis that is away).
 */
export async function readArchiverLeaseHolders(redis: Redis, prefix: string, clusters: readonly string[], timeoutMs: number): Promise<Map<string, string>> {
  if (clusters.length === 0) return new Map();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`redis did not answer within ${timeoutMs} ms`)), timeoutMs)));
  try {
    const values = await Promise.race([redis.mget(clusters.map((cluster) => archiverLeaseKey(prefix, cluster))), timeout]);
    const holders = new Map<string, string>();
    clusters.forEach((cluster, i) => {
      const holder = values[i];
      if (holder) holders.set(cluster, holder);
    });
    return holders;
  } finally {
    clearTimeout(timer);
  }
}
