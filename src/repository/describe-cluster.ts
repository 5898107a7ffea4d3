// The catalog of one cluster as users see it: its backups and increments, and the recoverable window (earliest
// and latest restorable point, as LSN and commit time read from the WAL), plus any WAL gap. Repository only.
import type { DecryptionSession } from '../crypto/index.js';
import { formatLsn, parseLsn, segmentStartLsn, toTimelineId, type Lsn, type TimelineId, type TimelineSwitch, type WalSegmentName } from '../postgres/index.js';
import type { Storage } from '../storage/index.js';
import { loadBackupCatalog } from './backup-catalog.js';
import type { BackupManifest } from './backup-manifest.js';
import { loadClusterIdentity, type ClusterIdentity } from './cluster-identity.js';
import { segmentOnPath, walkArchivedWal } from './find-wal-gaps.js';
import { listArchivedWal, type ArchivedWal } from './list-archived-wal.js';
import { scanArchivedWal } from './scan-archived-wal.js';
import { loadTimelineHistories, newestDescendantPath } from './timeline-histories.js';

/** One backup or increment in `backups list` output. */
export interface CatalogEntry {
  backupId: string;
  type: 'full' | 'incremental';
  timeline: number;
  startLsn: string;
  stopLsn: string;
  startTime: string;
  stopTime: string;
  /** full: database bytes backed up; incremental: WAL bytes sealed (segments x segment size). */
  sizeBytes: number;
  storedSizeBytes: number;
  parentBackupId?: string;
  fullBackupId?: string;
  /** full: commit time it is consistent at; incremental: commit-time range of its WAL. */
  consistentXactTime?: string;
  firstXactTime?: string;
  lastXactTime?: string;
}

export interface RecoverablePoint {
  lsn: string;
  /**
   * Commit timestamp of the last transaction at or before `lsn`, read from the WAL; absent when unknown. The
   * earliest point always has one: the oldest backup's consistent commit, else its end time.
   */
  time?: string;
}

export interface ClusterCatalog {
  cluster: string;
  systemIdentifier?: string;
  postgresMajorVersion?: number;
  backups: CatalogEntry[];
  /** Absent until a full backup exists. */
  window?: { earliest: RecoverablePoint; latest: RecoverablePoint & { source: 'segment' | 'partial' } };
  /** Segments missing between the oldest full backup and the newest archived WAL on its timeline. */
  gaps: string[];
  archivedSegments: number;
}

/** How many newest WAL objects are scanned looking for the latest commit. */
const LATEST_SCAN_LIMIT = 8;

function toEntry(manifest: BackupManifest): CatalogEntry {
  const base = {
    backupId: manifest.backupId,
    type: manifest.type,
    timeline: manifest.timeline,
    startLsn: manifest.startLsn,
    stopLsn: manifest.stopLsn,
    startTime: manifest.startTime,
    stopTime: manifest.stopTime,
  };
  if (manifest.type === 'full') {
    return {
      ...base,
      sizeBytes: manifest.tarSizeBytes,
      storedSizeBytes: manifest.parts.reduce((sum, part) => sum + part.storedSizeBytes, 0),
      ...(manifest.consistentXactTime ? { consistentXactTime: manifest.consistentXactTime } : {}),
    };
  }
  return {
    ...base,
    sizeBytes: manifest.segments.length * manifest.walSegmentSizeBytes,
    storedSizeBytes: manifest.segments.reduce((sum, segment) => sum + segment.storedSizeBytes, 0),
    parentBackupId: manifest.parentBackupId,
    fullBackupId: manifest.fullBackupId,
    ...(manifest.firstXactTime ? { firstXactTime: manifest.firstXactTime } : {}),
    ...(manifest.lastXactTime ? { lastXactTime: manifest.lastXactTime } : {}),
  };
}

/** What a catalog is made from; a restore, which needs them itself, loads them once for both. */
export interface ClusterContents {
  identity: ClusterIdentity | undefined;
  manifests: BackupManifest[];
  wal: ArchivedWal;
  /** Parsed timeline histories; loaded here when not given. */
  histories?: ReadonlyMap<TimelineId, TimelineSwitch[]>;
}

export async function describeCluster(storage: Storage, session: DecryptionSession, cluster: string, signal?: AbortSignal): Promise<ClusterCatalog> {
  const [identity, manifests, wal] = await Promise.all([
    loadClusterIdentity(storage, cluster, signal),
    loadBackupCatalog(storage, cluster, signal),
    listArchivedWal(storage, cluster, signal),
  ]);
  return describeClusterContents(storage, session, cluster, { identity, manifests, wal }, signal);
}

/** The catalog of `cluster` from contents already loaded; reads WAL objects only for the latest commit time. */
export async function describeClusterContents(
  storage: Storage,
  session: DecryptionSession,
  cluster: string,
  contents: ClusterContents,
  signal?: AbortSignal,
): Promise<ClusterCatalog> {
  const { identity, manifests, wal } = contents;
  const catalog: ClusterCatalog = {
    cluster,
    ...(identity ? { systemIdentifier: identity.systemIdentifier, postgresMajorVersion: identity.postgresMajorVersion } : {}),
    backups: manifests.map(toEntry),
    gaps: [],
    archivedSegments: wal.segments.size,
  };
  const oldestFull = manifests.find((m) => m.type === 'full');
  if (!identity || !oldestFull || oldestFull.type !== 'full') return catalog;
  const segmentSizeBytes = identity.walSegmentSizeBytes;

  // The latest point: contiguous complete segments from the oldest full backup on, along the timeline history to
  // the newest timeline descending from it (after a failover or a restore), then a partial of the next segment.
  const histories = contents.histories ?? (await loadTimelineHistories(storage, session, cluster, wal, signal));
  const path = newestDescendantPath(toTimelineId(oldestFull.timeline), wal, histories);
  const walkFrom = segmentStartLsn(oldestFull.startSegment as WalSegmentName, segmentSizeBytes);
  const walk = walkArchivedWal(wal, path, walkFrom, segmentSizeBytes);
  catalog.gaps = walk.gaps;
  const lastComplete = walk.contiguous.at(-1);
  const lastCompleteEnd = lastComplete ? ((segmentStartLsn(lastComplete, segmentSizeBytes) + BigInt(segmentSizeBytes)) as Lsn) : undefined;
  const next = segmentOnPath(path, lastCompleteEnd ?? walkFrom, segmentSizeBytes);
  const partial = walk.gaps.length === 0 ? wal.partials.get(next)?.at(-1) : undefined;
  let latestLsn: Lsn = lastCompleteEnd ?? parseLsn(oldestFull.stopLsn);
  if (partial && partial.endLsn > latestLsn) latestLsn = partial.endLsn;
  const stop = parseLsn(oldestFull.stopLsn);
  if (latestLsn < stop) latestLsn = stop;

  // Its time: the newest commit in the newest WAL, scanning back a few objects.
  const candidates: { key: string; segment: WalSegmentName; sha256?: string }[] = [];
  if (partial) candidates.push({ key: partial.key, segment: partial.segment });
  for (const segment of [...walk.contiguous].reverse()) {
    const stored = wal.segments.get(segment)!;
    candidates.push({ key: stored.key, segment, sha256: stored.sha256 });
  }
  let latestTime: Date | undefined;
  for (const candidate of candidates.slice(0, LATEST_SCAN_LIMIT)) {
    const summary = await scanArchivedWal({
      storage,
      session,
      cluster,
      key: candidate.key,
      segment: candidate.segment,
      ...(candidate.sha256 ? { plaintextSha256: candidate.sha256 } : {}),
      segmentSizeBytes,
      ...(signal ? { signal } : {}),
    });
    if (summary.lastXactTime) {
      latestTime = summary.lastXactTime;
      break;
    }
  }
  const fallback = [...manifests].reverse().map((m) => (m.type === 'full' ? m.consistentXactTime : m.lastXactTime)).find(Boolean);
  catalog.window = {
    // Without a commit in the backup's own WAL, its end is the earliest time a restore is sure to be right for
    // (an earlier time may postdate commits the repository cannot see); `restore` plans with this same window.
    earliest: { lsn: oldestFull.stopLsn, time: oldestFull.consistentXactTime ?? oldestFull.stopTime },
    latest: {
      lsn: formatLsn(latestLsn),
      ...(latestTime ? { time: latestTime.toISOString() } : fallback ? { time: fallback } : {}),
      source: partial && partial.endLsn >= latestLsn ? 'partial' : 'segment',
    },
  };
  return catalog;
}
