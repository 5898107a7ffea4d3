// `lifeboat daemon`: runs every schedule of the config through BullMQ on the shared Redis, placing work by
// daemon.jobs / daemon.clusters, each job in a child process under its cluster locks; serves /healthz and /readyz;
// shuts down gracefully on SIGTERM/SIGINT (a second signal exits at once). The steps below run in this order for
// a reason each.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { RuntimeConfig } from '../config/index.js';
import { ERROR_CODES } from '../errors/index.js';
import { DAEMON_LOCK_NAME } from '../state/lock-names.js';
import { acquireProcessLock } from '../state/process-lock.js';
import { clusterInfoKey, openStorage } from '../storage/index.js';
import type { Logger } from '../log/index.js';
import { startHeartbeat } from '../jobs/daemon-registry.js';
import { planQueues, scheduleConfigHash } from '../jobs/plan-schedulers.js';
import { processJob, type ProcessJobDeps } from '../jobs/process-job.js';
import { reconcileSchedulers } from '../jobs/reconcile-schedulers.js';
import { redisOptions, requireRedisConfig } from '../jobs/redis-connection.js';
import { bullPrefix } from '../jobs/redis-keys.js';
import { createDaemonMetrics } from '../metrics/daemon-metrics.js';
import { startArchiverSupervisor } from './archiver-supervisor.js';
import { startHealthServer } from './health-server.js';
import { startHeartbeatWriter } from './heartbeat-writer.js';

export interface RunDaemonOptions {
  config: RuntimeConfig;
  log: Logger;
  env: NodeJS.ProcessEnv;
  /** The first SIGTERM/SIGINT: start the graceful shutdown. */
  signal: AbortSignal;
  lifeboatVersion: string;
}

/** How long BullMQ's own job lock lasts without renewal (a dead daemon's job is redelivered after it). */
const JOB_LOCK_MS = 30_000;

export async function runDaemon(options: RunDaemonOptions): Promise<void> {
  const { config } = options;
  const redisConfig = requireRedisConfig(config, 'lifeboat daemon');

  // 1. One daemon per state folder: the lock is the kernel's, so a killed daemon never leaves it behind.
  mkdirSync(config.stateDir, { recursive: true });
  const processLock = await acquireProcessLock(config.stateDir, DAEMON_LOCK_NAME, 'daemon');
  const daemonId = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const log = options.log.child({ component: 'daemon', daemonId });
  const prefix = redisConfig.prefix;
  const connection = redisOptions(redisConfig, 'daemon');
  const children = new Set<ChildProcess>();

  // 2. A second signal means "now": kill the job processes and exit without waiting for anything.
  let signals = 0;
  const onSignal = (name: NodeJS.Signals): void => {
    signals += 1;
    if (signals < 2) return;
    log.warn({ signal: name, children: [...children].map((c) => c.pid) }, 'second signal: killing running jobs and exiting now');
    for (const child of children) child.kill('SIGKILL');
    process.exit(ERROR_CODES.aborted);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  // 3. Redis, waited for forever (a Redis restart must not stop the daemon); every reconnect re-reconciles the
  //    schedulers, since a Redis restart without persistence loses them.
  const redis = new Redis({ ...connection, lazyConnect: true });
  let lastRedisError = '';
  redis.on('error', (error: Error) => {
    if (error.message !== lastRedisError) log.warn({ err: error.message }, 'redis connection error; reconnecting');
    lastRedisError = error.message;
  });
  const reconcile = async (): Promise<void> => {
    const result = await reconcileSchedulers(config, redis, connection, prefix, log);
    log.info({ ...result, scheduleHash: scheduleConfigHash(config) }, 'job schedulers reconciled with the config');
  };
  await redis.connect();
  await reconcile();
  redis.on('ready', () => {
    lastRedisError = '';
    log.info('redis connection restored; reconciling the job schedulers');
    reconcile().catch((error: unknown) => log.error({ err: error }, 'cannot reconcile the job schedulers'));
  });

  // 4. Announce this daemon (and compare schedule configs with the others).
  const clusters = config.daemon.clusters ?? config.clusters.map((c) => c.name);
  const heartbeat = await startHeartbeat(
    redis,
    prefix,
    { id: daemonId, host: hostname(), pid: process.pid, jobs: [...config.daemon.jobs], clusters, scheduleHash: scheduleConfigHash(config), version: options.lifeboatVersion, startedAt: new Date().toISOString() },
    log,
  );

  // 5. Workers only on the queues this daemon is placed for: a kind it does not take never runs here.
  const shutdown = new AbortController();
  const metrics = createDaemonMetrics({ config, redis, prefix, daemonId, log });
  const deps: ProcessJobDeps = {
    config,
    redis,
    prefix,
    daemonId,
    lifeboatVersion: options.lifeboatVersion,
    env: options.env,
    log,
    shutdownSignal: shutdown.signal,
    onOutcome: (event) => metrics.recordJobOutcome(event),
    onSpawn: (child) => {
      children.add(child);
      child.once('exit', () => children.delete(child));
    },
  };
  // 5-. With the `drill` kind: a drill killed with its daemon left a scratch server behind; remove it before taking
  //     new drills (skipped while another process on this host runs a drill: it cleans up itself).
  if (config.daemon.jobs.includes('drill')) {
    const { removeAbandonedScratchIfIdle } = await import('../drills/scratch-registry.js');
    await removeAbandonedScratchIfIdle(config.stateDir, log);
  }
  const placed = planQueues(config).filter((q) => clusters.includes(q.cluster) && config.daemon.jobs.includes(q.kind));
  const workers = placed.map(({ queue }) => {
    const worker = new Worker(queue, (job) => processJob(job, deps), {
      connection,
      prefix: bullPrefix(prefix),
      concurrency: 1,
      lockDuration: JOB_LOCK_MS,
      maxStalledCount: 1,
    });
    worker.on('error', (error) => log.warn({ err: error.message, queue }, 'worker error'));
    return worker;
  });

  // 5b. With the `archive` role: be willing to archive each cluster served; a Redis lease elects one daemon each.
  const archivers = config.daemon.jobs.includes('archive')
    ? startArchiverSupervisor({ config, clusters, redis, prefix, daemonId, env: options.env, log, onSpawn: deps.onSpawn })
    : undefined;

  // 5c. The drill heartbeat of each cluster served (heartbeatSeconds > 0): a Redis claim keeps it to one row a beat.
  const heartbeats = startHeartbeatWriter({ config, clusters, redis, prefix, daemonId, log });

  // 6. Probes: alive while the process runs; ready while Redis and the repository answer. And /metrics.
  const storage = openStorage(config.repository);
  const http = await startHealthServer(config.daemon.listen, {
    redis: async () => void (await redis.ping()),
    repository: async () => void (await storage.head(clusterInfoKey(config.clusters[0]!.name), { signal: AbortSignal.timeout(3_000) })),
  }, metrics);
  log.info({ listen: http.address, queues: placed.map((q) => q.queue), pid: process.pid }, 'daemon ready');

  // 7. Run until the first signal.
  if (!options.signal.aborted) await new Promise((resolve) => options.signal.addEventListener('abort', resolve, { once: true }));

  // 8. Stop taking jobs; running jobs finish, or are aborted (and clean up) when the timeout passes. Their locks are
  //    released by the processor; an aborted run is retried by another daemon.
  const timeoutMs = config.daemon.shutdownTimeoutSeconds * 1000;
  log.info({ running: children.size, timeoutMs }, 'shutting down: no new jobs; waiting for running jobs');
  const timer = setTimeout(() => {
    log.warn({ running: children.size }, 'shutdown timeout passed: aborting running jobs');
    shutdown.abort();
  }, timeoutMs);
  try {
    await Promise.all([...workers.map((worker) => worker.close()), archivers?.stop(), heartbeats.stop()]);
  } finally {
    clearTimeout(timer);
  }

  // 9. Leave no trace a live daemon would leave: registry entry, connections, the state folder lock.
  await heartbeat.stop().catch(() => undefined);
  await http.close();
  metrics.close();
  await redis.quit().catch(() => redis.disconnect());
  await processLock.release();
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  log.info('daemon stopped');
}
