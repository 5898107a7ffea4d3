// The daemon's drill heartbeat: for each cluster it serves with clusters[].drill.heartbeatSeconds > 0, a timer
// writes a row into lifeboat.heartbeat on the primary over one long-lived connection (application_name
// `lifeboat heartbeat`, reconnected after a failure). A Redis claim per cluster and interval lets one of several
// daemons write each beat; a failure is logged when it starts or changes and when writing resumes, never per beat.
import type { Redis } from 'ioredis';
import type { RuntimeCluster, RuntimeConfig } from '../config/index.js';
import { LifeboatError, describeError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import { RetryBackoff } from '../backup/wal-archive/retry-backoff.js';
import { HEARTBEAT_RETENTION_SECONDS, ensureHeartbeatTable, writeHeartbeat } from '../drills/heartbeat/index.js';
import { claimHeartbeat, heartbeatClaimMs } from '../jobs/heartbeat-claim.js';
import { connectPostgres, formatLsn, type PgClient } from '../postgres/index.js';

/** Old rows are deleted by at most one write per this long and writer: a few hundred rows at a time, not one per beat. */
const PRUNE_EVERY_MS = 10 * 60_000;
/** Server-side bound of each heartbeat statement (a lock on the table must not hold a beat forever). */
const STATEMENT_TIMEOUT_MS = 5_000;
/** Client-side bound of connecting and of each statement: a silent network loses the connection, not the timer. */
const CALL_TIMEOUT_MS = 10_000;
/**
 * Failed beats are retried after one interval, the delay doubling up to eight intervals but at most this (and at
 * least one interval): a role lacking the grant is not probed every second, and a fixed one resumes soon.
 */
const RETRY_MAX_MS = 30_000;

export interface HeartbeatWriterOptions {
  config: RuntimeConfig;
  /** The clusters this daemon serves. */
  clusters: readonly string[];
  redis: Redis;
  prefix: string;
  daemonId: string;
  log: Logger;
}

export interface HeartbeatWriter {
  /** Stop the timers, let a beat in flight finish (bounded) and close the connections. */
  stop(): Promise<void>;
}

/** `err` for the log: the code and hint of a LifeboatError, else the message. */
function logFields(error: unknown): Record<string, unknown> {
  return error instanceof LifeboatError ? { code: error.code, err: error.message, hint: error.hint } : { err: describeError(error) };
}

async function bounded<T>(what: string, call: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LifeboatError('postgresUnavailable', `${what}: no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([call, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

class ClusterHeartbeatWriter {
  readonly #intervalMs: number;
  readonly #log: Logger;
  readonly #backoff: RetryBackoff;
  #client: PgClient | undefined;
  #tick: Promise<void> | undefined;
  #stopped = false;
  #lastPruneMs = 0;
  #written = 0;
  /** The failure last logged (code and message), so the same one is not logged again each beat. */
  #failure: string | undefined;
  #failedBeats = 0;
  #redisDown = false;

  constructor(
    readonly cluster: RuntimeCluster,
    readonly options: HeartbeatWriterOptions,
  ) {
    this.#intervalMs = cluster.drill.heartbeatSeconds * 1000;
    this.#log = options.log.child({ cluster: cluster.name });
    this.#backoff = new RetryBackoff(this.#intervalMs, Math.max(this.#intervalMs, Math.min(8 * this.#intervalMs, RETRY_MAX_MS)));
  }

  get intervalMs(): number {
    return this.#intervalMs;
  }

  /** One beat, unless the previous one still runs or a failure's retry delay has not passed. */
  beat(): void {
    if (this.#stopped || this.#tick !== undefined || !this.#backoff.ready(Date.now())) return;
    this.#tick = this.#beat().finally(() => (this.#tick = undefined));
  }

  async #beat(): Promise<void> {
    try {
      // Connected first, claim second: a daemon that cannot reach the server must not take the beat from one that can.
      const client = await this.#connect();
      if (this.#stopped || !(await this.#claim())) return;
      const pruneDue = Date.now() - this.#lastPruneMs >= PRUNE_EVERY_MS;
      const written = await bounded('writing the heartbeat', writeHeartbeat(client, pruneDue ? { pruneOlderThanSeconds: HEARTBEAT_RETENTION_SECONDS } : {}), CALL_TIMEOUT_MS);
      if (pruneDue) this.#lastPruneMs = Date.now();
      this.#succeeded(written.heartbeat.seq, formatLsn(written.heartbeat.lsn), written.prunedRows);
    } catch (error) {
      this.#disconnect();
      this.#failed(error);
    }
  }

  async #connect(): Promise<PgClient> {
    if (this.#client !== undefined) return this.#client;
    const { postgres } = this.cluster;
    const client = await bounded('connecting for the heartbeat', connectPostgres(postgres, 'lifeboat heartbeat'), CALL_TIMEOUT_MS);
    try {
      await bounded('preparing the heartbeat connection', (async () => {
        await client.query(`select pg_catalog.set_config('statement_timeout', '${STATEMENT_TIMEOUT_MS}', false)`);
        await ensureHeartbeatTable(client, postgres.user, postgres.dbname);
      })(), CALL_TIMEOUT_MS);
    } catch (error) {
      void client.end().catch(() => undefined);
      throw error;
    }
    this.#client = client;
    return client;
  }

  /** Not awaited: ending a connection to a server that stopped answering may itself hang. */
  #disconnect(): void {
    const client = this.#client;
    this.#client = undefined;
    void client?.end().catch(() => undefined);
  }

  /**
   * True when this daemon writes this beat. Redis unreachable (or not answering within half an interval): write
   * anyway. Two daemons writing the same beat cost one row; none writing costs a gap, which a drill would count
   * as lost data that was never at risk.
   */
  async #claim(): Promise<boolean> {
    const { redis, prefix, daemonId } = this.options;
    const timeoutMs = Math.min(2_000, Math.max(100, Math.floor(this.#intervalMs / 2)));
    try {
      const claimed = await bounded('claiming the heartbeat', claimHeartbeat(redis, prefix, this.cluster.name, daemonId, heartbeatClaimMs(this.#intervalMs)), timeoutMs);
      if (this.#redisDown) this.#log.info('redis answers the heartbeat claim again');
      this.#redisDown = false;
      return claimed;
    } catch (error) {
      if (!this.#redisDown) this.#log.warn({ err: describeError(error) }, 'redis unreachable for the heartbeat claim; writing every beat until it answers');
      this.#redisDown = true;
      return true;
    }
  }

  #succeeded(seq: number, lsn: string, prunedRows: number): void {
    this.#backoff.succeeded();
    this.#written += 1;
    if (this.#failure !== undefined) {
      this.#log.info({ seq, lsn, failedBeats: this.#failedBeats }, 'drill heartbeat written again');
    } else if (this.#written === 1) {
      this.#log.info({ seq, lsn, intervalSeconds: this.cluster.drill.heartbeatSeconds }, 'drill heartbeat written; writing one per interval');
    }
    if (prunedRows > 0) this.#log.debug({ prunedRows }, 'old drill heartbeats pruned');
    this.#failure = undefined;
    this.#failedBeats = 0;
  }

  #failed(error: unknown): void {
    this.#failedBeats += 1;
    const retryInMs = this.#backoff.failed(Date.now());
    const fields = logFields(error);
    const key = `${String(fields.code)}:${String(fields.err)}`;
    if (key === this.#failure) return;
    this.#failure = key;
    this.#log.error({ ...fields, retryInMs }, 'cannot write the drill heartbeat; retrying (logged again only when the error changes)');
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#tick) await Promise.race([this.#tick, new Promise((resolve) => setTimeout(resolve, CALL_TIMEOUT_MS).unref())]);
    const client = this.#client;
    this.#client = undefined;
    if (client) await Promise.race([client.end().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
  }
}

/** Start writing heartbeats for the served clusters that want them; a no-op writer when none does. */
export function startHeartbeatWriter(options: HeartbeatWriterOptions): HeartbeatWriter {
  const writers = options.config.clusters
    .filter((cluster) => options.clusters.includes(cluster.name) && cluster.drill.heartbeatSeconds > 0)
    .map((cluster) => new ClusterHeartbeatWriter(cluster, options));
  const timers = writers.map((writer) => {
    writer.beat();
    // Unref'd: the heartbeat never keeps a daemon alive that is otherwise done (e.g. its HTTP port was taken).
    return setInterval(() => writer.beat(), writer.intervalMs).unref();
  });
  return {
    stop: async () => {
      for (const timer of timers) clearInterval(timer);
      await Promise.all(writers.map((writer) => writer.stop()));
    },
  };
}
