// `lifeboat backup full`: one full physical backup of a cluster, streamed from pg_basebackup into the
// repository. The steps run in this order for a reason each; the manifest is written last, so an
// interrupted backup never exists, and an interrupted or failed one removes what it stored.
import type { Logger } from 'pino';
import type { RuntimeCluster, RuntimeConfig } from '../../config/index.js';
import { createDecryptionSession, createEncryptionSession, formatEncryptionContext, type KeyProvider } from '../../crypto/index.js';
import { InterruptedError, LifeboatError } from '../../errors/index.js';
import {
  connectPostgres,
  ensurePhysicalSlot,
  formatLsn,
  readServerInfo,
  requirePrivileges,
  walSegmentOf,
  type Lsn,
  type ServerInfo,
  type TimelineId,
} from '../../postgres/index.js';
import { listArchivedWal } from '../../repository/list-archived-wal.js';
import { scanWalRange } from '../../repository/scan-archived-wal.js';
import { storeBackupManifest } from '../../repository/backup-catalog.js';
import type { FullBackupManifest } from '../../repository/backup-manifest.js';
import { ensureClusterIdentity } from '../../repository/cluster-identity.js';
import { backupLockName } from '../../state/lock-names.js';
import { acquireProcessLock } from '../../state/process-lock.js';
import { loadStateIdentity, type StateIdentity } from '../../state/state-identity.js';
import { backupInProgressKey, type Storage } from '../../storage/index.js';
import { createBackupId } from '../backup-id.js';
import { parseBackupLabel } from '../parse-backup-label.js';
import { parseWalRanges } from '../parse-wal-ranges.js';
import { archiverCommand, createArchiverWatch, readArchiverEvidence } from '../wal-archive/watch-archiver.js';
import { createBackupOwner, storeBackupOwner } from './backup-owner.js';
import { cleanInterruptedBackups } from './clean-interrupted-backups.js';
import { discardUnfinishedBackup } from './discard-unfinished-backup.js';
import { estimateBackupSizeBytes } from './estimate-backup-size.js';
import { streamBaseBackup } from './stream-base-backup.js';
import { waitForWal } from './wait-for-wal.js';

export interface RunFullBackupOptions {
  config: RuntimeConfig;
  cluster: RuntimeCluster;
  storage: Storage;
  keys: KeyProvider;
  log: Logger;
  signal: AbortSignal;
  lifeboatVersion: string;
  now?: () => Date;
  /** The daemon run taking this backup, recorded in its manifest (see BackupManifest.runKey). */
  runKey?: string;
  /** Tar bytes streamed so far, and an estimate of the total (undefined: none), while the base backup streams. */
  onProgress?: (doneBytes: number, estimatedTotalBytes: number | undefined) => void;
}

/** Grace before an unfinished backup folder counts as abandoned: longer than any backup's WAL wait. */
const MIN_LEFTOVER_GRACE_MS = 60 * 60 * 1000;

async function inspectServer(cluster: RuntimeCluster, stateDir: string, log: Logger): Promise<ServerInfo> {
  const client = await connectPostgres(cluster.postgres, 'lifeboat-backup');
  try {
    await requirePrivileges(client, cluster.postgres.user, 'backup full');
    const info = await readServerInfo(client);
    if (info.userTablespaces.length > 0) {
      throw new LifeboatError(
        'postgresConfig',
        `cluster "${cluster.name}" has user tablespaces (${info.userTablespaces.join(', ')}); pg_basebackup cannot stream them to stdout, and lifeboat never skips data silently`,
        { hint: 'move their objects to pg_default (ALTER TABLE ... SET TABLESPACE pg_default), then drop the tablespaces' },
      );
    }
    // Both slots exist before the backup starts, so the WAL from its start onwards is kept until archived.
    await ensurePhysicalSlot(client, cluster.wal.slotName);
    await ensurePhysicalSlot(client, cluster.wal.guardSlotName);
    // The backup completes only once an archiver stores its WAL: say so now rather than after the stream.
    const archiver = await readArchiverEvidence(client, cluster, stateDir);
    if (archiver.slotActive === false && archiver.localArchiver === undefined) {
      log.warn({ startWith: archiverCommand(cluster) }, 'no WAL archiver is running for this cluster: the backup will fail after streaming unless one starts');
    }
    return info;
  } finally {
    await client.end();
  }
}

async function readConsistentXactTime(
  options: RunFullBackupOptions,
  segmentSizeBytes: number,
  timeline: TimelineId,
  startLsn: Lsn,
  stopLsn: Lsn,
): Promise<Date | undefined> {
  const session = createDecryptionSession(options.keys, { expectedScope: { cluster: options.cluster.name }, signal: options.signal });
  try {
    const wal = await listArchivedWal(options.storage, options.cluster.name, options.signal);
    const range = await scanWalRange({ storage: options.storage, session, cluster: options.cluster.name, wal, timeline, fromLsn: startLsn, toLsn: stopLsn, segmentSizeBytes, signal: options.signal });
    return range.lastXactTime;
  } finally {
    session.close();
  }
}

/** Where a backup is, for deciding what an interruption or failure has to undo. */
type Phase = 'preparing' | 'storing' | 'sealing';

export async function runFullBackup(options: RunFullBackupOptions): Promise<FullBackupManifest> {
  const { config, cluster, signal } = options;
  const now = options.now ?? (() => new Date());
  const startTime = now();
  const backupId = createBackupId('full', startTime);
  const log = options.log.child({ component: 'backup', cluster: cluster.name, backupId });

  // 0. One full backup per cluster from this state folder: a second one is refused with `locked`, and while this
  // process holds the lock, any unfinished backup this host and folder started before is provably dead.
  const identity = loadStateIdentity(config.stateDir);
  const lockName = backupLockName(cluster.name);
  const lock = await acquireProcessLock(config.stateDir, lockName, `backup full (cluster ${cluster.name}, backup ${backupId})`);
  const progress = { phase: 'preparing' as Phase };
  try {
    return await takeFullBackup(options, { backupId, startTime, now, log, identity, lockName, progress });
  } catch (error) {
    // Until the manifest is being written, nothing of this backup is usable: remove it rather than leave it to
    // the next run. Once the manifest write has started it may exist, and its parts must stay.
    const outcome = progress.phase === 'storing' ? await discardUnfinishedBackup(options.storage, cluster.name, backupId, log) : undefined;
    if (signal.aborted) {
      log.debug({ err: error }, 'the backup failed after the interruption');
      const sealing = `backup ${backupId} may have been completed: see \`lifeboat backups list\``;
      throw new InterruptedError('backup full', signal, outcome ?? (progress.phase === 'preparing' ? 'nothing was stored' : sealing), error);
    }
    if (outcome) log.warn({ outcome }, 'the failed backup was cleaned up');
    throw error;
  } finally {
    await lock.release();
  }
}

interface BackupRun {
  backupId: string;
  startTime: Date;
  now: () => Date;
  log: Logger;
  identity: StateIdentity;
  lockName: string;
  progress: { phase: Phase };
}

async function takeFullBackup(options: RunFullBackupOptions, run: BackupRun): Promise<FullBackupManifest> {
  const { config, cluster, storage, keys, signal } = options;
  const { backupId, startTime, now, log } = run;

  // 1. Know the server and refuse what cannot be backed up completely, before writing anything.
  const server = await inspectServer(cluster, config.stateDir, log);

  // 2. One name, one cluster: a different system under this name would corrupt the WAL chain.
  await ensureClusterIdentity(
    storage,
    { cluster: cluster.name, systemIdentifier: server.systemIdentifier, postgresMajorVersion: server.majorVersion, walSegmentSizeBytes: server.walSegmentSizeBytes },
    startTime,
    signal,
  );

  // 3. Leftovers of interrupted backups are never listed, but they cost storage: remove them. Ours (this host,
  // this state folder, this lock) at once; others' only after the grace, since their writer may still be running.
  await cleanInterruptedBackups({
    storage,
    cluster: cluster.name,
    graceMs: Math.max(MIN_LEFTOVER_GRACE_MS, 2 * cluster.wal.archiveTimeoutSeconds * 1000),
    now: startTime,
    log,
    signal,
    holder: { identity: run.identity, lock: run.lockName },
  });

  // 4. Say who owns this backup before its first part, so whoever finds it unfinished can tell if it is dead.
  run.progress.phase = 'storing';
  await storeBackupOwner(storage, createBackupOwner(run.identity, cluster.name, backupId, run.lockName, startTime), signal);

  // 5. Stream the base backup; one data key for the whole backup.
  log.info({ checkpoint: cluster.backup.checkpoint }, 'full backup started');
  const scope = { cluster: cluster.name, family: 'base' as const, backupId };
  const { onProgress } = options;
  const estimatedBytes = onProgress ? await estimateBackupSizeBytes(cluster) : undefined;
  const progress = onProgress ? { onProgress: (done: number) => onProgress(done, estimatedBytes) } : {};
  const session = createEncryptionSession(keys, { scope, signal });
  let streamed;
  try {
    streamed = await streamBaseBackup({ cluster, backupId, storage, session, compression: config.compression, log, signal, ...progress });
  } finally {
    session.close();
  }

  // 6. Where the backup starts and stops comes from PostgreSQL's own files, not from guesses.
  const label = parseBackupLabel(streamed.backupLabel);
  const ranges = parseWalRanges(streamed.manifestTail);
  const last = ranges.at(-1)!;
  if (last.startLsn !== label.startLsn && ranges.length === 1) {
    throw new LifeboatError('internal', `backup_label starts at ${formatLsn(label.startLsn)} but the manifest's WAL range starts at ${formatLsn(last.startLsn)}`);
  }

  // 7. Complete only when all WAL from start to stop is in the repository (the archive check); with no
  // archiver working, say so within seconds instead of waiting out the timeout.
  const client = await connectPostgres(cluster.postgres, 'lifeboat-backup');
  try {
    await waitForWal({
      storage,
      cluster: cluster.name,
      timeline: last.timeline,
      startLsn: label.startLsn,
      stopLsn: last.endLsn,
      segmentSizeBytes: server.walSegmentSizeBytes,
      timeoutMs: cluster.wal.archiveTimeoutSeconds * 1000,
      archiver: createArchiverWatch({ cluster, stateDir: config.stateDir, client }),
      log,
      signal,
    });
  } finally {
    await client.end().catch(() => undefined);
  }

  // 8. Read the backup's WAL back (proving it readable) for the commit time it is consistent at.
  const consistentXactTime = await readConsistentXactTime(options, server.walSegmentSizeBytes, last.timeline, label.startLsn, last.endLsn);

  // 9. The manifest, last and create-only: from now on the backup exists.
  const manifest: FullBackupManifest = {
    formatVersion: 1,
    type: 'full',
    backupId,
    cluster: cluster.name,
    systemIdentifier: server.systemIdentifier,
    postgresVersionNum: server.versionNum,
    walSegmentSizeBytes: server.walSegmentSizeBytes,
    lifeboatVersion: options.lifeboatVersion,
    timeline: last.timeline,
    startLsn: formatLsn(label.startLsn),
    stopLsn: formatLsn(last.endLsn),
    startSegment: walSegmentOf(label.startTimeline, label.startLsn, server.walSegmentSizeBytes),
    stopSegment: walSegmentOf(last.timeline, (last.endLsn - 1n) as typeof last.endLsn, server.walSegmentSizeBytes),
    checkpointLsn: formatLsn(label.checkpointLsn),
    ...(consistentXactTime ? { consistentXactTime: consistentXactTime.toISOString() } : {}),
    startTime: startTime.toISOString(),
    stopTime: now().toISOString(),
    ...(options.runKey ? { runKey: options.runKey } : {}),
    options: { compression: { ...config.compression }, checkpoint: cluster.backup.checkpoint, partSizeBytes: cluster.backup.partSizeMiB * 1024 * 1024 },
    encryption: { provider: keys.kind, keyId: streamed.parts[0]?.encryption.keyId ?? keys.keyId, context: formatEncryptionContext(scope) },
    tarSizeBytes: streamed.tarSizeBytes,
    members: streamed.members,
    parts: streamed.parts,
  };
  run.progress.phase = 'sealing';
  await storeBackupManifest(storage, manifest, signal);
  // The marker has done its job; a failure to remove it leaves a harmless file in a complete backup's folder.
  await storage.delete([backupInProgressKey(cluster.name, backupId)], { signal }).catch((error: unknown) => log.warn({ err: error }, 'could not remove the in-progress marker'));
  log.info({ stopLsn: manifest.stopLsn, parts: manifest.parts.length, tarSizeBytes: manifest.tarSizeBytes }, 'full backup complete');
  return manifest;
}
