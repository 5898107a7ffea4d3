// `lifeboat wal archive`: continuous WAL archiving for one cluster. pg_receivewal streams into a local spool on
// the streaming slot; completed segments are shipped create-only, the head segment is shipped as a partial
// every interval, and the guard slot follows what is durably stored. Runs until the signal fires; outages of
// the repository or the server are waited out, while conflicts and WAL gaps stop it (is-fatal-archive-error.ts).
// One archiver per state folder and cluster: the whole run holds the process lock walArchiveLockName(cluster).
import { setMaxListeners } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { RuntimeCluster, RuntimeConfig } from '../../config/index.js';
import { createEncryptionSession, type KeyProvider } from '../../crypto/index.js';
import { LifeboatError, describeError } from '../../errors/index.js';
import { acquireProcessLock } from '../../state/process-lock.js';
import { walArchiveLockName } from '../../state/lock-names.js';
import { currentWalLsn, formatLsn, readSlot, toTimelineId, type Lsn, type ServerInfo, type WalSegmentName } from '../../postgres/index.js';
import { listArchivedWal } from '../../repository/list-archived-wal.js';
import type { Storage } from '../../storage/index.js';
import { ArchiveLag } from './archive-lag.js';
import { isFatalArchiveError } from './is-fatal-archive-error.js';
import { ArchiverConnection } from './archiver-connection.js';
import { storeArchiverState, type WalArchiveState } from './archiver-state.js';
import { advanceGuardSlot } from './advance-guard-slot.js';
import { catchUpReceiver } from './catch-up-receiver.js';
import { planArchivePosition } from './plan-archive-position.js';
import { prepareServer } from './prepare-server.js';
import { readSpool } from './read-spool.js';
import { stopOrphanedReceiver } from './receivewal-process.js';
import { RetryBackoff } from './retry-backoff.js';
import { shipPartial } from './ship-partial.js';
import { SpoolWakeup } from './spool-wakeup.js';
import { shipSpool } from './ship-spool.js';
import { ReceiverSupervisor } from './receiver-supervisor.js';
import type { WalArchiveEvent } from './wal-archive-events.js';

export interface RunWalArchiveOptions {
  config: RuntimeConfig;
  cluster: RuntimeCluster;
  storage: Storage;
  keys: KeyProvider;
  log: Logger;
  signal: AbortSignal;
  /** Called after every cycle with the current state. */
  onState?: (state: WalArchiveState) => void;
  /** Called when it starts, (re)starts streaming, stores a segment, and stops (wal-archive-events.ts). */
  onEvent?: (event: WalArchiveEvent) => void;
  /** Cycle period; default 1000 ms. */
  pollMs?: number;
}

/** How long a graceful stop may spend shipping what is left. */
const FINAL_SHIP_TIMEOUT_MS = 60_000;
/** How long a graceful stop waits for pg_receivewal to receive what the server had written when it began. */
const CATCH_UP_TIMEOUT_MS = 10_000;

/** The spool folder of a cluster: local, never needed for a restore. */
export function spoolDirOf(config: RuntimeConfig, cluster: RuntimeCluster): string {
  return join(config.stateDir, cluster.name, 'spool');
}

/**
 * Archive the cluster's WAL until `signal` fires (then ship what is left and return) or a fatal error (thrown).
 * Throws `locked`, naming the holder's pid, before touching anything when another archiver of this cluster runs
 * on the same state folder; the lock is held until this returns (and released by the kernel if the process dies).
 */
export async function runWalArchive(options: RunWalArchiveOptions): Promise<void> {
  const { config, cluster } = options;
  // 0. One archiver per state folder and cluster, before anything else: a second one must not touch the spool,
  // the receiver or the slots of the first. The folder exists first so that the lock is named after its real path.
  await mkdir(config.stateDir, { recursive: true, mode: 0o700 });
  const lock = await acquireProcessLock(config.stateDir, walArchiveLockName(cluster.name), `wal archive (cluster ${cluster.name})`);
  try {
    await archiveUnderLock(options);
  } finally {
    await lock.release();
  }
}

async function archiveUnderLock(options: RunWalArchiveOptions): Promise<void> {
  const { config, cluster, storage, keys, signal } = options;
  const log = options.log.child({ component: 'wal-archiver', cluster: cluster.name });
  const emit = (event: WalArchiveEvent): void => options.onEvent?.(event);
  const spoolDir = spoolDirOf(config, cluster);
  const statePath = join(config.stateDir, cluster.name, 'archiver-state.json');
  await mkdir(spoolDir, { recursive: true, mode: 0o700 });

  // 1. Never two receivers on one spool: end an orphan whose archiver died (we hold the lock, so none of ours runs).
  // One whose owner may live belongs to an archiver outside the lock (an older Lifeboat, another network
  // namespace): refuse rather than take its slot away.
  const orphan = await stopOrphanedReceiver(spoolDir);
  if (orphan.kind === 'orphan') log.warn({ pid: orphan.receiverPid, ownerPid: orphan.ownerPid }, 'terminated an orphaned pg_receivewal');
  if (orphan.kind === 'owned') {
    throw new LifeboatError('locked', `pg_receivewal (pid ${orphan.receiverPid}, child of process ${orphan.parentPid ?? 'unknown'}) still streams into ${spoolDir}`, {
      hint: `another archiver runs on this state folder outside Lifeboat's lock; stop process ${orphan.parentPid ?? orphan.receiverPid} (or pg_receivewal ${orphan.receiverPid} if it is a leftover) first`,
    });
  }

  // 2. Identity, slots and a free streaming slot, checked once: a wrong server does not heal by retrying.
  const connection = new ArchiverConnection(cluster.postgres);
  let info: ServerInfo;
  try {
    info = await connection.use((client) => prepareServer(client, cluster, storage, signal));
  } catch (error) {
    await connection.close();
    throw error;
  }
  const segmentSizeBytes = info.walSegmentSizeBytes;
  // No session-wide signal: the final shipping at shutdown runs after `signal` fired and still needs the key.
  const session = createEncryptionSession(keys, { scope: { cluster: cluster.name, family: 'wal', backupId: `archiver-${Date.now()}` } });
  const shipOptions = { storage, cluster: cluster.name, session, compression: config.compression, spoolDir, segmentSizeBytes };
  const receiver = new ReceiverSupervisor({
    cluster, storage, connection, spoolDir, segmentSizeBytes, log, signal,
    onStreaming: (segment, seeded, restart) => emit({ kind: 'streaming', segment, seeded, restart }),
  });
  const repositoryBackoff = new RetryBackoff();
  const serverBackoff = new RetryBackoff();
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
  let positionLoaded = false;
  /** End of the stored WAL, partials included: what a restore can reach. */
  let archivedLsn: Lsn | undefined;
  /** End of the last complete segment durably stored: how far the guard may move. */
  let durableLsn: Lsn | undefined;
  let guardLsn: Lsn | undefined;
  let partial: { segment: WalSegmentName; endLsn: Lsn } | undefined;
  let lastPartialAtMs = 0;
  let fatal: unknown;
  /** Fires with `signal`, and on a fatal error: in-flight repository work stops either way. */
  const stopWork = new AbortController();
  const workSignal = AbortSignal.any([signal, stopWork.signal]);
  setMaxListeners(1000, workSignal);
  emit({
    kind: 'started', cluster: cluster.name, slotName: cluster.wal.slotName, guardSlotName: cluster.wal.guardSlotName,
    timeline: info.timeline, segmentSizeBytes, pid: process.pid,
  });

  const raiseArchivedLsn = (lsn: Lsn): void => {
    if (archivedLsn === undefined || lsn > archivedLsn) archivedLsn = lsn;
  };

  const recordError = (what: string, message: string): void => {
    state.lastError = `${what}: ${message}`;
    state.lastErrorTime = new Date().toISOString();
    log.warn({ error: message }, `${what} failed; retrying`);
  };

  /** Run one step of the cycle: fatal errors end the archiver, others are recorded and retried later. */
  const attempt = async (what: string, work: () => Promise<unknown>): Promise<boolean> => {
    try {
      await work();
      return true;
    } catch (error) {
      if (isFatalArchiveError(error)) throw error;
      if (!workSignal.aborted) recordError(what, describeError(error));
      return false;
    }
  };

  const loadPosition = async (): Promise<void> => {
    if (positionLoaded) return;
    const wal = await listArchivedWal(storage, cluster.name, workSignal);
    const guard = await connection.use((c) => readSlot(c, cluster.wal.guardSlotName));
    const position = planArchivePosition(wal, toTimelineId(info.timeline), guard?.restartLsn, segmentSizeBytes);
    if (position.archivedLsn !== undefined) raiseArchivedLsn(position.archivedLsn);
    if (position.durableLsn !== undefined && (durableLsn === undefined || position.durableLsn > durableLsn)) durableLsn = position.durableLsn;
    state.lastArchivedSegment ??= position.newestSegment;
    positionLoaded = true;
  };

  const ship = async (shipSignal: AbortSignal): Promise<void> => {
    await shipSpool({
      ...shipOptions,
      signal: shipSignal,
      onShipped: async (segment, endLsn) => {
        // The guard may now move past this segment: it is durable in the repository.
        if (durableLsn === undefined || endLsn > durableLsn) durableLsn = endLsn;
        raiseArchivedLsn(endLsn);
        state.lastArchivedSegment = segment.segment;
        state.segmentsArchived += 1;
        if (partial?.segment === segment.segment) partial = undefined;
        log.info({ segment: segment.segment, uploaded: segment.uploaded, storedSizeBytes: segment.storedSizeBytes }, 'WAL segment archived');
        emit({ kind: 'archived', segment: segment.segment, storedSizeBytes: segment.storedSizeBytes, uploaded: segment.uploaded });
      },
    });
  };

  /** Returns the partial uploaded, if the head held new WAL. */
  const shipHeadPartial = async (shipSignal: AbortSignal): Promise<{ segment: WalSegmentName; endLsn: string } | undefined> => {
    const spool = await readSpool(spoolDir);
    if (!spool.partial) return undefined;
    const previous = partial?.segment === spool.partial ? partial.endLsn : undefined;
    const shipped = await shipPartial({ ...shipOptions, segment: spool.partial, previousEndLsn: previous, signal: shipSignal });
    if (shipped === undefined) return undefined;
    partial = { segment: spool.partial, endLsn: shipped.endLsn };
    raiseArchivedLsn(shipped.endLsn);
    if (!shipped.uploaded) return undefined;
    state.partialsUploaded += 1;
    log.debug({ segment: spool.partial, endLsn: formatLsn(shipped.endLsn) }, 'partial WAL segment uploaded');
    return { segment: spool.partial, endLsn: formatLsn(shipped.endLsn) };
  };

  const advanceGuard = async (): Promise<void> => {
    const target = durableLsn;
    if (target === undefined || (guardLsn !== undefined && guardLsn >= target)) return;
    const moved = await connection.use((c) => advanceGuardSlot(c, cluster.wal.guardSlotName, target));
    if (moved.recreated) log.warn({ slot: cluster.wal.guardSlotName }, 'the guard slot was missing and has been created again');
    guardLsn = moved.restartLsn;
  };

  const sampleServer = async (): Promise<void> => {
    const serverLsn = await connection.use((c) => currentWalLsn(c));
    lag.sample(serverLsn, Date.now());
    state.serverLsn = formatLsn(serverLsn);
  };

  const publishState = async (): Promise<void> => {
    Object.assign(state, lag.measure(archivedLsn, Date.now()), {
      lastArchivedLsn: archivedLsn === undefined ? undefined : formatLsn(archivedLsn),
      receiverRunning: receiver.running,
      receiverRestarts: receiver.restarts,
      updatedTime: new Date().toISOString(),
    });
    options.onState?.({ ...state });
    await storeArchiverState(statePath, state).catch((error: unknown) => log.warn({ error: describeError(error) }, 'cannot write the archiver state file'));
  };

  /** One round of repository work; a fatal error is kept for the loop to throw. */
  const repositoryRound = async (startMs: number): Promise<void> => {
    const partialDue = startMs - lastPartialAtMs >= cluster.wal.partialUploadIntervalSeconds * 1000;
    const archivedBefore = state.segmentsArchived;
    try {
      const done =
        (await attempt('loading the archive position', loadPosition)) &&
        (await attempt('shipping WAL segments', () => ship(workSignal))) &&
        (!partialDue || (await attempt('uploading the partial segment', () => shipHeadPartial(workSignal))));
      if (done) {
        repositoryBackoff.succeeded();
        if (partialDue) lastPartialAtMs = startMs;
      } else {
        repositoryBackoff.failed(Date.now());
      }
    } catch (error) {
      roundFatal = { error };
    }
    // Segments may have completed while this round shipped others: look again at once rather than after a poll.
    if (state.segmentsArchived > archivedBefore) wakeup.wake();
  };
  let round: Promise<void> | undefined;
  let roundFatal: { error: unknown } | undefined;
  const wakeup = new SpoolWakeup(spoolDir);

  try {
    while (!signal.aborted) {
      const nowMs = Date.now();
      // 3. Repository work (where the archive stands, completed segments, the head partial on its interval),
      // waited out with backoff while the repository is unreachable; completed segments go first. It runs beside
      // this loop: a stalled S3 request (measured: all of a SIGSTOPped endpoint's requests hang, up to the 120 s
      // idle timeout per attempt) must not stop the receiver's supervision, the guard or the state and its lag.
      if (roundFatal !== undefined) throw roundFatal.error;
      if (round === undefined && repositoryBackoff.ready(nowMs)) {
        round = repositoryRound(nowMs).finally(() => (round = undefined));
      }
      // 4. Keep pg_receivewal streaming: restarted with backoff; an empty spool is seeded where the archive ends.
      await attempt('pg_receivewal', async () => {
        const stopped = await receiver.tick(nowMs);
        if (stopped !== undefined) recordError('pg_receivewal', stopped);
      });
      // 5. Server work: the guard follows what is durable, and the server's position is sampled for the lag.
      if (serverBackoff.ready(nowMs)) {
        const done = (await attempt('advancing the guard slot', advanceGuard)) && (await attempt('sampling the server position', sampleServer));
        if (done) serverBackoff.succeeded();
        else serverBackoff.failed(nowMs);
      }
      // 6. The state every cycle, also while the repository or the server is away, so lag is visible.
      await publishState();
      await wakeup.wait(options.pollMs ?? 1000, signal);
    }
  } catch (error) {
    fatal = error;
    stopWork.abort();
  } finally {
    wakeup.close();
  }
  // 7. Graceful stop: let the receiver catch up with the server (a commit made just before the signal is still
  // in flight), end it (it flushes), then ship what it completed and the last partial and move the guard, so a
  // planned restart costs no RPO. Bounded, so a dead server or repository cannot hang shutdown.
  // After a fatal error nothing more is uploaded: a conflict must not be retried.
  // A repository round still running sees the aborted work signal and ends first (or with the fatal error it met).
  await round;
  if (fatal === undefined && roundFatal !== undefined) fatal = roundFatal.error;
  if (fatal === undefined && receiver.running) {
    const caughtUp = await catchUpReceiver({
      connection, spoolDir, segmentSizeBytes, storedEndLsn: () => archivedLsn, receiverRunning: () => receiver.running, timeoutMs: CATCH_UP_TIMEOUT_MS,
    })
      .catch((error: unknown) => ({ targetLsn: undefined, reached: false, error: describeError(error) }));
    if (!caughtUp.reached) log.warn({ targetLsn: caughtUp.targetLsn === undefined ? undefined : formatLsn(caughtUp.targetLsn) }, 'pg_receivewal did not catch up with the server before the stop; the rest ships on the next start');
  }
  await receiver.stop();
  let finalPartial: { segment: string; endLsn: string } | undefined;
  let finalShipError: string | undefined;
  if (fatal === undefined) {
    const finalSignal = AbortSignal.timeout(FINAL_SHIP_TIMEOUT_MS);
    try {
      await ship(finalSignal);
      finalPartial = await shipHeadPartial(finalSignal);
      await advanceGuard();
    } catch (error) {
      finalShipError = describeError(error);
      log.error({ error: finalShipError }, 'could not finish shipping at shutdown; the rest ships on the next start');
    }
  }
  state.lastArchivedLsn = archivedLsn === undefined ? undefined : formatLsn(archivedLsn);
  state.receiverRunning = false;
  state.receiverRestarts = receiver.restarts;
  state.updatedTime = new Date().toISOString();
  await storeArchiverState(statePath, state).catch(() => undefined);
  session.close();
  await connection.close();
  emit({
    kind: 'stopped', state: { ...state },
    ...(finalPartial === undefined ? {} : { finalPartial }),
    ...(finalShipError === undefined ? {} : { finalShipError }),
    ...(fatal === undefined ? {} : { error: describeError(fatal) }),
  });
  if (fatal !== undefined) throw fatal;
}
