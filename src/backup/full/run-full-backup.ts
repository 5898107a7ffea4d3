// `lifeboat backup full`: one full physical backup of a cluster, streamed from pg_basebackup into the
// repository. The steps run in this order for a reason each; the manifest is written last, so an
// interrupted backup never exists.
import type { Logger } from 'pino';
import type { RuntimeCluster, RuntimeConfig } from '../../config/index.js';
import { createDecryptionSession, createEncryptionSession, formatEncryptionContext, type KeyProvider } from '../../crypto/index.js';
import { LifeboatError } from '../../errors/index.js';
import {
  connectPostgres,
  ensurePhysicalSlot,
  formatLsn,
  readServerInfo,
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
import type { Storage } from '../../storage/index.js';
import { createBackupId } from '../backup-id.js';
import { parseBackupLabel } from '../parse-backup-label.js';
import { parseWalRanges } from '../parse-wal-ranges.js';
import { cleanInterruptedBackups } from './clean-interrupted-backups.js';
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
  /** Tar bytes streamed so far, and an estimate of the total (undefined: none), while the base backup streams. */
  onProgress?: (doneBytes: number, estimatedTotalBytes: number | undefined) => void;
}

/** Grace before an unfinished backup folder counts as abandoned: longer than any backup's WAL wait. */
const MIN_LEFTOVER_GRACE_MS = 60 * 60 * 1000;

async function inspectServer(cluster: RuntimeCluster): Promise<ServerInfo> {
  const client = await connectPostgres(cluster.postgres, 'lifeboat-backup');
  try {
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

export async function runFullBackup(options: RunFullBackupOptions): Promise<FullBackupManifest> {
  const { config, cluster, storage, keys, signal } = options;
  const now = options.now ?? (() => new Date());
  const startTime = now();
  const backupId = createBackupId('full', startTime);
  const log = options.log.child({ component: 'backup', cluster: cluster.name, backupId });

  // 1. Know the server and refuse what cannot be backed up completely, before writing anything.
  const server = await inspectServer(cluster);

  // 2. One name, one cluster: a different system under this name would corrupt the WAL chain.
  await ensureClusterIdentity(
    storage,
    { cluster: cluster.name, systemIdentifier: server.systemIdentifier, postgresMajorVersion: server.majorVersion, walSegmentSizeBytes: server.walSegmentSizeBytes },
    startTime,
    signal,
  );

  // 3. Leftovers of interrupted backups are never listed, but they cost storage: remove them.
  await cleanInterruptedBackups({
    storage,
    cluster: cluster.name,
    graceMs: Math.max(MIN_LEFTOVER_GRACE_MS, 2 * cluster.wal.archiveTimeoutSeconds * 1000),
    now: startTime,
    log,
    signal,
  });

  // 4. Stream the base backup; one data key for the whole backup.
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

  // 5. Where the backup starts and stops comes from PostgreSQL's own files, not from guesses.
  const label = parseBackupLabel(streamed.backupLabel);
  const ranges = parseWalRanges(streamed.manifestTail);
  const last = ranges.at(-1)!;
  if (last.startLsn !== label.startLsn && ranges.length === 1) {
    throw new LifeboatError('internal', `backup_label starts at ${formatLsn(label.startLsn)} but the manifest's WAL range starts at ${formatLsn(last.startLsn)}`);
  }

  // 6. Complete only when all WAL from start to stop is in the repository (the archive check).
  await waitForWal({
    storage,
    cluster: cluster.name,
    timeline: last.timeline,
    startLsn: label.startLsn,
    stopLsn: last.endLsn,
    segmentSizeBytes: server.walSegmentSizeBytes,
    timeoutMs: cluster.wal.archiveTimeoutSeconds * 1000,
    signal,
  });

  // 7. Read the backup's WAL back (proving it readable) for the commit time it is consistent at.
  const consistentXactTime = await readConsistentXactTime(options, server.walSegmentSizeBytes, last.timeline, label.startLsn, last.endLsn);

  // 8. The manifest, last and create-only: from now on the backup exists.
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
    options: { compression: { ...config.compression }, checkpoint: cluster.backup.checkpoint, partSizeBytes: cluster.backup.partSizeMiB * 1024 * 1024 },
    encryption: { provider: keys.kind, keyId: streamed.parts[0]?.encryption.keyId ?? keys.keyId, context: formatEncryptionContext(scope) },
    tarSizeBytes: streamed.tarSizeBytes,
    members: streamed.members,
    parts: streamed.parts,
  };
  await storeBackupManifest(storage, manifest, signal);
  log.info({ stopLsn: manifest.stopLsn, parts: manifest.parts.length, tarSizeBytes: manifest.tarSizeBytes }, 'full backup complete');
  return manifest;
}
