// Runs the WAL archiver of every cluster this daemon serves when this daemon holds the cluster's archiver lease.
// Each tick (a third of the lease) per cluster: not holding, try to take the lease; holding, renew it. A renewal
// that finds another holder stands down (the child stops gracefully); one that cannot reach Redis keeps archiving,
// so Redis is no single point of failure for the WAL. While holding, the archiver child runs, restarted with
// backoff when it fails, is told each tick that the lease is still ours (it stops on its own, before the lease
// can pass to another daemon, when told nothing: archiverWatchdogMs), and the holder publishes its state.
import { fork, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import type { RuntimeConfig } from '../config/index.js';
import { describeError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import { RetryBackoff } from '../backup/wal-archive/retry-backoff.js';
import { acquireArchiverLease, releaseArchiverLease, renewArchiverLease } from '../jobs/archiver-lease.js';
import { archiverStateKey } from '../jobs/redis-keys.js';
import type { ArchiverParentMessage } from './archiver-child-protocol.js';
import { LONG_RUNNING_MALLOC_ENV } from './long-running-heap.js';

const ENTRY = fileURLToPath(new URL('./archiver-child-entry.js', import.meta.url));
/** A child that archived this long before it failed is restarted after the initial delay again. */
const STABLE_RUN_MS = 60_000;
/** How long a stopping child may take (its final shipping is bounded at 60 s) before SIGKILL. */
const STOP_GRACE_MS = 90_000;

export interface ArchiverSupervisorOptions {
  config: RuntimeConfig;
  clusters: readonly string[];
  redis: Redis;
  prefix: string;
  daemonId: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** Told about each child as soon as it exists (the daemon kills its children on a second signal). */
  onSpawn?: (child: ChildProcess) => void;
}

export interface ArchiverSupervisor {
  /** Stop every archiver gracefully and free the leases held. */
  stop(): Promise<void>;
}

/** How often each cluster's lease is taken or renewed: a third of the lease, so two renewals may fail in a row. */
export function archiverTickMs(leaseMs: number): number {
  return Math.max(250, Math.floor(leaseMs / 3));
}

/** Bound on each Redis call of a tick (a hung connection counts as unreachable): a tick ends before the next. */
export function archiverRedisTimeoutMs(leaseMs: number): number {
  return Math.max(500, Math.floor(leaseMs / 4));
}

/**
 * How long the archiver child runs on without a `keep` from its daemon: five sixths of the lease. `keep`s come at
 * most a tick plus a Redis timeout apart (7/12 of the lease, also while Redis is unreachable), so a live daemon's
 * child never stops; a frozen daemon's child stops a sixth of the lease before the lease expires, so it has ended
 * its receiver's restarts before another daemon can hold the lease and terminate its walsender. Measured with the
 * whole lease instead: the new holder took the lease 70-460 ms before the old child stopped, 5 runs out of 8.
 */
export function archiverWatchdogMs(leaseMs: number): number {
  return leaseMs - Math.floor(archiverTickMs(leaseMs) / 2);
}

type Holding = { child: ChildProcess | undefined; exited: Promise<void> | undefined; startedAtMs: number; backoff: RetryBackoff; retryAtMs: number };

class ClusterArchiver {
  #holding: Holding | undefined;
  #busy = false;
  #stopped = false;
  #redisDown = false;
  #publishing = false;
  readonly #leaseMs: number;
  readonly #log: Logger;

  constructor(
    readonly cluster: string,
    readonly options: ArchiverSupervisorOptions,
  ) {
    this.#leaseMs = options.config.daemon.archiverLeaseSeconds * 1000;
    this.#log = options.log.child({ cluster });
  }

  async tick(): Promise<void> {
    if (this.#busy || this.#stopped) return;
    this.#busy = true;
    try {
      await this.#tick();
    } finally {
      this.#busy = false;
    }
  }

  async #tick(): Promise<void> {
    const { redis, prefix, daemonId } = this.options;
    if (this.#holding === undefined) {
      const taken = await this.#redis(() => acquireArchiverLease(redis, prefix, this.cluster, daemonId, this.#leaseMs));
      if (taken !== true) return;
      if (this.#stopped) {
        await this.#redis(() => releaseArchiverLease(redis, prefix, this.cluster, daemonId));
        return;
      }
      this.#log.info({ leaseMs: this.#leaseMs }, 'archiver lease taken: starting the WAL archiver');
      this.#holding = { child: undefined, exited: undefined, startedAtMs: 0, backoff: new RetryBackoff(1000, 30_000), retryAtMs: 0 };
    } else {
      const renewed = await this.#redis(() => renewArchiverLease(redis, prefix, this.cluster, daemonId, this.#leaseMs));
      if (renewed === 'lost') {
        this.#log.warn('another daemon holds the archiver lease: standing down');
        await this.#standDown('another daemon holds the archiver lease');
        return;
      }
      // Unreachable Redis (undefined): keep archiving; the slot keeps two archivers from streaming at once.
    }
    const holding = this.#holding;
    // stop() ran while Redis answered: it owns the holding now.
    if (this.#stopped || holding === undefined) return;
    this.#send({ type: 'keep' });
    if (holding.child === undefined && Date.now() >= holding.retryAtMs) this.#spawn(holding);
    // Not awaited: a Redis that hangs must not delay the next tick's renewal and `keep` past the child's watchdog.
    if (!this.#publishing) {
      this.#publishing = true;
      void this.#publishState().finally(() => (this.#publishing = false));
    }
  }

  /**
   * A Redis call bounded by a quarter of the lease (a hung connection counts as unreachable), so that a tick ends
   * before the next one is due and the child hears `keep` every third of the lease even while Redis is away.
   */
  async #redis<T>(call: () => Promise<T>): Promise<T | undefined> {
    const timeoutMs = archiverRedisTimeoutMs(this.#leaseMs);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<{ timedOut: true }>((resolve) => (timer = setTimeout(() => resolve({ timedOut: true }), timeoutMs)));
    try {
      const result = await Promise.race([call().then((value) => ({ value })), timeout]);
      if ('timedOut' in result) return this.#unreachable(`no answer within ${timeoutMs} ms`);
      this.#redisDown = false;
      return result.value;
    } catch (error) {
      return this.#unreachable(describeError(error));
    } finally {
      clearTimeout(timer);
    }
  }

  /** Logged once per outage: while it lasts, the holder archives on and the others wait. */
  #unreachable(reason: string): undefined {
    if (!this.#redisDown) this.#log.warn({ err: reason, holding: this.#holding !== undefined }, 'redis unreachable for the archiver lease; archiving on');
    this.#redisDown = true;
    return undefined;
  }

  #spawn(holding: Holding): void {
    const child = fork(ENTRY, [], { detached: true, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...LONG_RUNNING_MALLOC_ENV, ...this.options.env }, serialization: 'json' });
    this.options.onSpawn?.(child);
    holding.child = child;
    holding.startedAtMs = Date.now();
    holding.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        if (holding.child === child) holding.child = undefined;
        if (this.#holding === holding) {
          if (Date.now() - holding.startedAtMs >= STABLE_RUN_MS) holding.backoff.succeeded();
          const delayMs = holding.backoff.failed(Date.now());
          holding.retryAtMs = Date.now() + delayMs;
          this.#log.warn({ pid: child.pid, code, signal, retryInMs: delayMs }, 'the WAL archiver process stopped; restarting it');
        }
        resolve();
      });
      child.once('error', (error) => {
        this.#log.error({ err: error.message }, 'cannot start the WAL archiver process');
        resolve();
      });
    });
    child.once('spawn', () => {
      const start: ArchiverParentMessage = {
        type: 'start',
        configPath: this.options.config.configPath,
        cluster: this.cluster,
        daemonId: this.options.daemonId,
        watchdogMs: archiverWatchdogMs(this.#leaseMs),
      };
      if (child.connected) child.send(start, () => undefined);
      this.#log.info({ pid: child.pid }, 'WAL archiver process forked');
    });
  }

  #send(message: ArchiverParentMessage): void {
    const child = this.#holding?.child;
    if (child?.connected) child.send(message, () => undefined);
  }

  /** Stop the child gracefully (it never terminates another archiver's walsender) and forget the lease. */
  async #standDown(reason: string): Promise<void> {
    const holding = this.#holding;
    this.#holding = undefined;
    const child = holding?.child;
    if (!child || !holding.exited) return;
    if (child.connected) child.send({ type: 'stop', reason } satisfies ArchiverParentMessage, () => undefined);
    else child.kill('SIGTERM');
    const killTimer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await holding.exited;
    clearTimeout(killTimer);
  }

  /** The holder's archiver-state.json, in a hash `status` reads (expiring with the lease if the holder dies). */
  async #publishState(): Promise<void> {
    const path = join(this.options.config.stateDir, this.cluster, 'archiver-state.json');
    const state = await readFile(path, 'utf8').catch(() => undefined);
    const key = archiverStateKey(this.options.prefix, this.cluster);
    await this.#redis(async () => {
      await this.options.redis
        .multi()
        .hset(key, { daemonId: this.options.daemonId, publishedAt: new Date().toISOString(), ...(state ? { state } : {}) })
        .pexpire(key, this.#leaseMs * 2)
        .exec();
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    const held = this.#holding !== undefined;
    await this.#standDown('the daemon is shutting down');
    if (held) await this.#redis(() => releaseArchiverLease(this.options.redis, this.options.prefix, this.cluster, this.options.daemonId));
  }
}

export function startArchiverSupervisor(options: ArchiverSupervisorOptions): ArchiverSupervisor {
  const archivers = options.clusters.map((cluster) => new ClusterArchiver(cluster, options));
  const tickMs = archiverTickMs(options.config.daemon.archiverLeaseSeconds * 1000);
  const tickAll = (): void => {
    for (const archiver of archivers) archiver.tick().catch((error: unknown) => options.log.error({ err: error, cluster: archiver.cluster }, 'archiver supervision failed'));
  };
  const timer = setInterval(tickAll, tickMs);
  tickAll();
  return {
    stop: async () => {
      clearInterval(timer);
      await Promise.all(archivers.map((archiver) => archiver.stop()));
    },
  };
}
