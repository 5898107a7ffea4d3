// Keeps one pg_receivewal streaming into the spool: starts it (seeding an empty spool at the first segment the
// repository lacks), notices when it exits (server restart, crash, network), and restarts it with backoff. A
// server that no longer has the WAL asked for is a named gap, never retried and never skipped.
import type { Logger } from 'pino';
import type { RuntimeCluster } from '../../config/index.js';
import { describeError } from '../../errors/index.js';
import {
  currentWalLsn,
  nextWalSegment,
  oldestServerSegment,
  readServerInfo,
  readServerTimelineHistory,
  readSlot,
  toTimelineId,
  type PgToolProcess,
  type WalSegmentName,
} from '../../postgres/index.js';
import { listArchivedWal } from '../../repository/list-archived-wal.js';
import type { Storage } from '../../storage/index.js';
import type { ArchiverConnection } from './archiver-connection.js';
import { readSpool } from './read-spool.js';
import { repairPartialPadding } from './repair-partial-padding.js';
import { startReceiver } from './receivewal-process.js';
import { RetryBackoff } from './retry-backoff.js';
import { checkSeedReachable, planSeed, seedSpool } from './seed-spool.js';
import { createWalGapError, removedSegmentOf } from './wal-gap-error.js';

export interface ReceiverSupervisorOptions {
  cluster: RuntimeCluster;
  storage: Storage;
  connection: ArchiverConnection;
  spoolDir: string;
  segmentSizeBytes: number;
  log: Logger;
  signal: AbortSignal;
  /** Called each time pg_receivewal starts: the segment it streams first, whether the spool was seeded, restarts so far. */
  onStreaming?: (segment: WalSegmentName, seeded: boolean, restart: number) => void;
}

/** A receiver that streamed this long before it stopped is restarted after the initial delay again. */
const STABLE_RUN_MS = 30_000;

interface Running {
  process: PgToolProcess;
  controller: AbortController;
  startedAtMs: number;
  exited: boolean;
  error?: unknown;
  /** The segment streaming started at (the spool's head when it started). */
  startSegment: WalSegmentName | undefined;
}

export class ReceiverSupervisor {
  readonly #options: ReceiverSupervisorOptions;
  readonly #backoff = new RetryBackoff();
  #current: Running | undefined;
  /** How many times pg_receivewal stopped on its own. */
  restarts = 0;

  constructor(options: ReceiverSupervisorOptions) {
    this.#options = options;
  }

  get running(): boolean {
    return this.#current !== undefined && !this.#current.exited;
  }

  /**
   * Start pg_receivewal unless it runs or its restart delay has not passed. Returns why the previous one
   * stopped, the first time that is noticed. Throws the WAL gap error when the server removed WAL the spool
   * needs; any other failure to start is thrown for the caller to retry at the next tick.
   */
  async tick(nowMs: number): Promise<string | undefined> {
    const previous = this.#current;
    if (previous !== undefined && !previous.exited) return undefined;
    let stopped: string | undefined;
    if (previous !== undefined) {
      this.#current = undefined;
      if (/has already been removed/.test(describeError(previous.error))) throw await this.#gapError(previous);
      if (nowMs - previous.startedAtMs >= STABLE_RUN_MS) this.#backoff.succeeded();
      this.restarts += 1;
      const retryInMs = this.#backoff.failed(nowMs);
      stopped = `pg_receivewal stopped (restart in ${retryInMs} ms): ${previous.error === undefined ? 'exited' : describeError(previous.error)}`;
    }
    if (!this.#backoff.ready(nowMs)) return stopped;
    try {
      await this.#start(nowMs);
    } catch (error) {
      this.#backoff.failed(nowMs);
      throw error;
    }
    return stopped;
  }

  /** Stop pg_receivewal (it flushes what it received) and wait for it. */
  async stop(): Promise<void> {
    const current = this.#current;
    if (current === undefined || current.exited) return;
    current.controller.abort();
    await current.process.done.catch(() => undefined);
  }

  async #start(nowMs: number): Promise<void> {
    const { cluster, spoolDir } = this.#options;
    const spool = await readSpool(spoolDir);
    const newest = spool.segments.at(-1);
    if (spool.partial !== undefined) {
      const shortBytes = await repairPartialPadding(spoolDir, spool.partial, this.#options.segmentSizeBytes);
      if (shortBytes !== undefined) {
        this.#options.log.warn({ segment: spool.partial, bytes: shortBytes }, 'completed the zero fill of a .partial that a stopped pg_receivewal left short');
      }
    }
    let startSegment = spool.partial ?? (newest === undefined ? undefined : nextWalSegment(newest, this.#options.segmentSizeBytes));
    const seeded = startSegment === undefined;
    if (startSegment === undefined) startSegment = await this.#seed();
    const controller = new AbortController();
    const process = startReceiver(cluster, spoolDir, controller.signal);
    const running: Running = { process, controller, startedAtMs: nowMs, exited: false, startSegment };
    this.#current = running;
    this.#options.onStreaming?.(startSegment, seeded, this.restarts);
    process.done.then(
      () => {
        running.exited = true;
      },
      (error: unknown) => {
        running.exited = true;
        running.error = error;
      },
    );
  }

  /** Empty spool: resume at the first segment the repository lacks, if the server still has it. */
  async #seed(): Promise<WalSegmentName> {
    const { cluster, connection, storage, segmentSizeBytes, spoolDir, signal } = this.#options;
    const timeline = toTimelineId((await connection.use((c) => readServerInfo(c))).timeline);
    const history = await readServerTimelineHistory(cluster.postgres, timeline);
    const wal = await listArchivedWal(storage, cluster.name, signal);
    const guard = await connection.use((c) => readSlot(c, cluster.wal.guardSlotName));
    const restart = guard?.restartLsn ?? (await connection.use((c) => currentWalLsn(c)));
    const decision = planSeed(wal, timeline, history, restart, segmentSizeBytes);
    // The segment may be named for a parent timeline (WAL before a switch): ask for that timeline's oldest file.
    const oldest = await connection.use((c) => oldestServerSegment(c, decision.segment.slice(0, 8)));
    checkSeedReachable(decision, oldest as WalSegmentName | undefined, segmentSizeBytes);
    await seedSpool(spoolDir, decision.segment, segmentSizeBytes);
    this.#options.log.info({ segment: decision.segment, continues: decision.continues }, 'streaming resumes at this segment');
    return decision.segment;
  }

  async #gapError(stopped: Running): Promise<Error> {
    const first = removedSegmentOf(stopped.error) ?? stopped.startSegment;
    if (first === undefined) return stopped.error instanceof Error ? stopped.error : new Error(describeError(stopped.error));
    const oldest = await this.#options.connection
      .use((c) => oldestServerSegment(c, first.slice(0, 8)))
      .catch(() => undefined);
    return createWalGapError(first, oldest as WalSegmentName | undefined, this.#options.segmentSizeBytes, { cause: stopped.error });
  }
}
