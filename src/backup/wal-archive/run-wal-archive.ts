// `lifeboat wal archive`: continuous WAL archiving for one cluster. pg_receivewal streams into a local spool on
// the streaming slot; completed segments are shipped create-only, the head segment is shipped as a partial
// every interval, and the guard slot follows what is durably stored. Runs until the signal fires.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { RuntimeCluster, RuntimeConfig } from '../../config/index.js';
import { createEncryptionSession, type KeyProvider } from '../../crypto/index.js';
import { LifeboatError, describeError } from '../../errors/index.js';
import {
  advanceSlot,
  connectPostgres,
  currentWalLsn,
  ensurePhysicalSlot,
  formatLsn,
  oldestServerSegment,
  readServerInfo,
  readSlot,
  terminateSlotHolder,
  toTimelineId,
  type Lsn,
  type PgClient,
  type PgToolProcess,
  type WalSegmentName,
} from '../../postgres/index.js';
import { ensureClusterIdentity } from '../../repository/cluster-identity.js';
import { listArchivedWal } from '../../repository/list-archived-wal.js';
import { formatTimeline, type Storage } from '../../storage/index.js';
import { ArchiveLag } from './archive-lag.js';
import { storeArchiverState, type WalArchiveState } from './archiver-state.js';
import { readSpool } from './read-spool.js';
import { startReceiver, stopOrphanedReceiver } from './receivewal-process.js';
import { planSeed, seedSpool } from './seed-spool.js';
import { shipPartial } from './ship-partial.js';
import { shipSpool } from './ship-spool.js';

export interface RunWalArchiveOptions {
  config: RuntimeConfig;
  cluster: RuntimeCluster;
  storage: Storage;
  keys: KeyProvider;
  log: Logger;
  signal: AbortSignal;
  /** Called after every cycle with the current state. */
  onState?: (state: WalArchiveState) => void;
  /** Cycle period; default 1000 ms. */
  pollMs?: number;
}

const MAX_RESTART_DELAY_MS = 30_000;
/** How long a graceful stop may spend shipping what is left. */
const FINAL_SHIP_TIMEOUT_MS = 60_000;

/** The spool folder of a cluster: local, never needed for a restore. */
export function spoolDirOf(config: RuntimeConfig, cluster: RuntimeCluster): string {
  return join(config.stateDir, cluster.name, 'spool');
}

/** pg_receivewal's message when the server recycled WAL the repository still needs: fatal, never retried. */
function isWalRemoved(error: unknown): boolean {
  return /has already been removed/.test(describeError(error));
}

async function prepareServer(
  cluster: RuntimeCluster,
  storage: Storage,
  signal: AbortSignal,
): Promise<{ client: PgClient; info: Awaited<ReturnType<typeof readServerInfo>> }> {
  const client = await connectPostgres(cluster.postgres, 'lifeboat-archiver');
  try {
    const info = await readServerInfo(client);
    await ensureClusterIdentity(
      storage,
      { cluster: cluster.name, systemIdentifier: info.systemIdentifier, postgresMajorVersion: info.majorVersion, walSegmentSizeBytes: info.walSegmentSizeBytes },
      new Date(),
      signal,
    );
    const slot = await ensurePhysicalSlot(client, cluster.wal.slotName);
    await ensurePhysicalSlot(client, cluster.wal.guardSlotName);
    // A receiver still holding the slot (a killed archiver's child, possibly on another host) must go first.
    if (slot.active) await terminateSlotHolder(client, slot);
    return { client, info };
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
}

export async function runWalArchive(options: RunWalArchiveOptions): Promise<void> {
  const { config, cluster, storage, keys, signal } = options;
  const log = options.log.child({ component: 'wal-archiver', cluster: cluster.name });
  const spoolDir = spoolDirOf(config, cluster);
  const statePath = join(config.stateDir, cluster.name, 'archiver-state.json');
  await mkdir(spoolDir, { recursive: true, mode: 0o700 });

  // 1. Never two receivers on one spool: end an orphan left by a killed archiver.
  const orphan = await stopOrphanedReceiver(spoolDir);
  if (orphan !== undefined) log.warn({ pid: orphan }, 'terminated an orphaned pg_receivewal');

  // 2. Identity, slots, and a connection kept for slot advances and lag samples.
  const prepared = await prepareServer(cluster, storage, signal);
  let client = prepared.client;
  const segmentSizeBytes = prepared.info.walSegmentSizeBytes;
  // No session-wide signal: the final shipping at shutdown runs after `signal` fired and still needs the key.
  const session = createEncryptionSession(keys, { scope: { cluster: cluster.name, family: 'wal', backupId: `archiver-${Date.now()}` } });
  const compression = config.compression;
  const lag = new ArchiveLag();
  const state: WalArchiveState = {
    cluster: cluster.name,
    lagBytes: 0,
    lagSeconds: 0,
    segmentsArchived: 0,
    partialsUploaded: 0,
    receiverRunning: false,
    receiverRestarts: 0,
    updatedTime: new Date().toISOString(),
  };
  let archivedLsn: Lsn | undefined;
  let partial: { segment: WalSegmentName; endLsn: Lsn } | undefined;
  let lastPartialAtMs = 0;
  let receiver: { process: PgToolProcess; controller: AbortController; exited: boolean; error?: unknown } | undefined;
  let restartDelayMs = 1000;
  let restartAtMs = 0;
  let fatal: unknown;

  const withClient = async <T>(use: (c: PgClient) => Promise<T>): Promise<T> => {
    try {
      return await use(client);
    } catch (error) {
      // One reconnect: the server may have restarted under us.
      await client.end().catch(() => undefined);
      client = await connectPostgres(cluster.postgres, 'lifeboat-archiver');
      if ((error as { code?: string }).code === undefined) return use(client);
      throw error;
    }
  };

  const ship = async (shipSignal: AbortSignal): Promise<void> => {
    const shipped = await shipSpool({
      storage,
      cluster: cluster.name,
      session,
      compression,
      spoolDir,
      segmentSizeBytes,
      signal: shipSignal,
      onShipped: async (segment, endLsn) => {
        // The server may now recycle this segment: it is durable in the repository.
        await withClient((c) => advanceSlot(c, cluster.wal.guardSlotName, endLsn));
        if (archivedLsn === undefined || endLsn > archivedLsn) archivedLsn = endLsn;
        state.lastArchivedSegment = segment.segment;
        state.segmentsArchived += 1;
        if (partial?.segment === segment.segment) partial = undefined;
        log.info({ segment: segment.segment, uploaded: segment.uploaded, storedSizeBytes: segment.storedSizeBytes }, 'WAL segment archived');
      },
    });
    if (shipped > 0) restartDelayMs = 1000;
  };

  const shipHeadPartial = async (shipSignal: AbortSignal): Promise<void> => {
    const spool = await readSpool(spoolDir);
    if (!spool.partial) return;
    const previous = partial?.segment === spool.partial ? partial.endLsn : undefined;
    const endLsn = await shipPartial({ storage, cluster: cluster.name, session, compression, spoolDir, segment: spool.partial, segmentSizeBytes, previousEndLsn: previous, signal: shipSignal });
    if (endLsn !== undefined) {
      partial = { segment: spool.partial, endLsn };
      if (archivedLsn === undefined || endLsn > archivedLsn) archivedLsn = endLsn;
      state.partialsUploaded += 1;
      log.debug({ segment: spool.partial, endLsn: formatLsn(endLsn) }, 'partial WAL segment uploaded');
    }
  };

  const startReceiving = async (): Promise<void> => {
    const spool = await readSpool(spoolDir);
    if (spool.partial === undefined && spool.segments.length === 0) {
      // 3. Empty spool: resume at the first segment the repository lacks, if the server still has it.
      const timeline = toTimelineId((await withClient((c) => readServerInfo(c))).timeline);
      const wal = await listArchivedWal(storage, cluster.name, signal);
      const guard = await withClient((c) => readSlot(c, cluster.wal.guardSlotName));
      const oldest = await withClient((c) => oldestServerSegment(c, formatTimeline(timeline)));
      const restart = guard?.restartLsn ?? (await withClient((c) => currentWalLsn(c)));
      const decision = planSeed(wal, timeline, restart, oldest as WalSegmentName | undefined, segmentSizeBytes);
      await seedSpool(spoolDir, decision.segment, segmentSizeBytes);
      log.info({ segment: decision.segment, continues: decision.continues }, 'streaming resumes at this segment');
    }
    const controller = new AbortController();
    const process = startReceiver(cluster, spoolDir, controller.signal);
    const current: NonNullable<typeof receiver> = { process, controller, exited: false };
    receiver = current;
    state.receiverRunning = true;
    process.done.then(
      () => {
        current.exited = true;
      },
      (error: unknown) => {
        current.exited = true;
        current.error = error;
      },
    );
  };

  try {
    // 4. Whatever an earlier run left complete in the spool goes first.
    await ship(signal);
    while (!signal.aborted) {
      if (!receiver || receiver.exited) {
        if (receiver?.exited) {
          state.receiverRunning = false;
          const why = receiver.error ? describeError(receiver.error) : 'exited';
          if (receiver.error && isWalRemoved(receiver.error)) {
            throw new LifeboatError('postgresConfig', `the server no longer has WAL the archive needs: ${why}`, {
              hint: 'restores cannot cross this gap: take a new full backup now; keep max_slot_wal_keep_size unset (or large) so the guard slot can protect unarchived WAL',
            });
          }
          if (restartAtMs === 0) {
            state.lastError = why;
            state.receiverRestarts += 1;
            restartAtMs = Date.now() + restartDelayMs;
            log.warn({ error: why, retryInMs: restartDelayMs }, 'pg_receivewal stopped; restarting');
            restartDelayMs = Math.min(MAX_RESTART_DELAY_MS, restartDelayMs * 2);
          }
        }
        if (Date.now() >= restartAtMs) {
          restartAtMs = 0;
          await ship(signal);
          await startReceiving();
        }
      }
      // 5. Ship completed segments as they appear; the head partial on its interval.
      await ship(signal);
      if (Date.now() - lastPartialAtMs >= cluster.wal.partialUploadIntervalSeconds * 1000) {
        lastPartialAtMs = Date.now();
        await shipHeadPartial(signal);
      }
      const serverLsn = await withClient((c) => currentWalLsn(c));
      lag.sample(serverLsn, Date.now());
      Object.assign(state, lag.measure(archivedLsn, Date.now()), {
        serverLsn: formatLsn(serverLsn),
        lastArchivedLsn: archivedLsn === undefined ? undefined : formatLsn(archivedLsn),
        updatedTime: new Date().toISOString(),
      });
      options.onState?.({ ...state });
      await storeArchiverState(statePath, state);
      await sleep(options.pollMs ?? 1000, undefined, { signal }).catch(() => undefined);
    }
  } catch (error) {
    fatal = error;
    throw error;
  } finally {
    // 6. Graceful stop: end the receiver (it flushes), then ship what it completed and the last partial,
    // so a planned restart costs no RPO. Bounded, so a dead repository cannot hang shutdown.
    if (receiver && !receiver.exited) {
      receiver.controller.abort();
      await receiver.process.done.catch(() => undefined);
    }
    state.receiverRunning = false;
    if (fatal === undefined) {
      const finalSignal = AbortSignal.timeout(FINAL_SHIP_TIMEOUT_MS);
      try {
        await ship(finalSignal);
        await shipHeadPartial(finalSignal);
      } catch (error) {
        log.error({ error: describeError(error) }, 'could not ship the spool at shutdown; it ships on the next start');
      }
    }
    state.updatedTime = new Date().toISOString();
    await storeArchiverState(statePath, state).catch(() => undefined);
    session.close();
    await client.end().catch(() => undefined);
  }
}
