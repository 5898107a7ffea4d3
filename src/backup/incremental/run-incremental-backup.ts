// `lifeboat backup incremental`: seals the WAL archived since the chain's tip into a catalog entry, the hourly
// restore point DBAs see. Every sealed segment is read back, verified and scanned, so "sealed" means "proven
// readable", and the entry records the commit times and restore points it covers.
import type { Logger } from 'pino';
import type { RuntimeCluster } from '../../config/index.js';
import { createDecryptionSession, type KeyProvider } from '../../crypto/index.js';
import { LifeboatError } from '../../errors/index.js';
import { formatLsn, toTimelineId } from '../../postgres/index.js';
import { loadBackupCatalog, storeBackupManifest } from '../../repository/backup-catalog.js';
import type { IncrementManifest } from '../../repository/backup-manifest.js';
import { loadClusterIdentity } from '../../repository/cluster-identity.js';
import { listArchivedWal } from '../../repository/list-archived-wal.js';
import { scanWalRange, type XactTimeRange } from '../../repository/scan-archived-wal.js';
import type { Storage } from '../../storage/index.js';
import { createBackupId } from '../backup-id.js';
import { planIncrement } from './plan-increment.js';

export interface RunIncrementalOptions {
  cluster: RuntimeCluster;
  storage: Storage;
  keys: KeyProvider;
  log: Logger;
  signal: AbortSignal;
  lifeboatVersion: string;
  now?: () => Date;
  /** The daemon run sealing this increment, recorded in its manifest (see BackupManifest.runKey). */
  runKey?: string;
}

/** Returns the new increment, or undefined when no complete segment was archived since the tip. */
export async function runIncrementalBackup(options: RunIncrementalOptions): Promise<IncrementManifest | undefined> {
  const { cluster, storage, keys, signal } = options;
  const now = options.now ?? (() => new Date());
  const startTime = now();
  const log = options.log.child({ component: 'increment', cluster: cluster.name });

  // 1. The chain and the WAL, from the repository alone.
  const identity = await loadClusterIdentity(storage, cluster.name, signal);
  if (!identity) {
    throw new LifeboatError('usage', `cluster "${cluster.name}" has nothing in the repository yet`, { hint: 'take a full backup first: lifeboat backup full' });
  }
  const catalog = await loadBackupCatalog(storage, cluster.name, signal);
  const wal = await listArchivedWal(storage, cluster.name, signal);

  // 2. What to seal: contiguous complete segments after the tip (a gap is an error, named).
  const plan = planIncrement(catalog, wal, identity.walSegmentSizeBytes);
  if (!plan) {
    log.info('no new complete WAL segment since the last backup; nothing to seal');
    return undefined;
  }

  // 3. Read every segment back: checksums, authentication, and the commit times it holds.
  const session = createDecryptionSession(keys, { expectedScope: { cluster: cluster.name }, signal });
  let range: XactTimeRange;
  try {
    range = await scanWalRange({
      storage,
      session,
      cluster: cluster.name,
      wal,
      timeline: toTimelineId(plan.tip.timeline),
      fromLsn: plan.startLsn,
      toLsn: plan.stopLsn,
      segmentSizeBytes: identity.walSegmentSizeBytes,
      signal,
    });
  } finally {
    session.close();
  }
  const { firstXactTime, lastXactTime } = range;
  const restorePoints: IncrementManifest['restorePoints'] = range.restorePoints.map((point) => ({ name: point.name, time: point.time.toISOString(), lsn: formatLsn(point.lsn) }));

  // 4. The entry, create-only: from now on this hourly restore point is in the catalog.
  const fullBackupId = plan.tip.type === 'full' ? plan.tip.backupId : plan.tip.fullBackupId;
  const manifest: IncrementManifest = {
    formatVersion: 1,
    type: 'incremental',
    backupId: createBackupId('incremental', startTime),
    cluster: cluster.name,
    systemIdentifier: identity.systemIdentifier,
    postgresVersionNum: plan.tip.postgresVersionNum,
    walSegmentSizeBytes: identity.walSegmentSizeBytes,
    lifeboatVersion: options.lifeboatVersion,
    timeline: plan.tip.timeline,
    startLsn: formatLsn(plan.startLsn),
    stopLsn: formatLsn(plan.stopLsn),
    startTime: startTime.toISOString(),
    stopTime: now().toISOString(),
    ...(options.runKey ? { runKey: options.runKey } : {}),
    fullBackupId,
    parentBackupId: plan.tip.backupId,
    segments: plan.segments.map((s) => ({ segment: s.segment, key: s.key, plaintextSha256: s.sha256, storedSizeBytes: s.storedSizeBytes })),
    ...(firstXactTime ? { firstXactTime: firstXactTime.toISOString() } : {}),
    ...(lastXactTime ? { lastXactTime: lastXactTime.toISOString() } : {}),
    restorePoints,
  };
  await storeBackupManifest(storage, manifest, signal);
  log.info({ backupId: manifest.backupId, segments: manifest.segments.length, stopLsn: manifest.stopLsn }, 'increment sealed');
  return manifest;
}
