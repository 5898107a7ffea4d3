// Everything a restore plan is made from, read from the repository alone: the cluster's identity, its backups,
// archived WAL, timeline histories, recorded restore points and the recoverable window.
import type { DecryptionSession } from '../crypto/index.js';
import { LifeboatError } from '../errors/index.js';
import type { TimelineId, TimelineSwitch } from '../postgres/index.js';
import { loadBackupCatalog } from '../repository/backup-catalog.js';
import type { BackupManifest } from '../repository/backup-manifest.js';
import { loadClusterIdentity, type ClusterIdentity } from '../repository/cluster-identity.js';
import { describeClusterContents, type ClusterCatalog } from '../repository/describe-cluster.js';
import { listArchivedWal, type ArchivedWal } from '../repository/list-archived-wal.js';
import { listRestorePoints, type RestorePointRecord } from '../repository/restore-points.js';
import { loadTimelineHistories } from '../repository/timeline-histories.js';
import type { Storage } from '../storage/index.js';

export interface RestoreInputs {
  identity: ClusterIdentity;
  manifests: BackupManifest[];
  wal: ArchivedWal;
  histories: Map<TimelineId, TimelineSwitch[]>;
  restorePoints: RestorePointRecord[];
  catalog: ClusterCatalog;
}

export async function loadRestoreInputs(storage: Storage, session: DecryptionSession, cluster: string, signal?: AbortSignal): Promise<RestoreInputs> {
  const identity = await loadClusterIdentity(storage, cluster, signal);
  if (!identity) {
    throw new LifeboatError('objectNotFound', `cluster "${cluster}" is not in the repository`, {
      hint: 'check the cluster name and that the config points at the right bucket or folder (`lifeboat backups list --cluster NAME`)',
    });
  }
  const [manifests, wal, restorePoints] = await Promise.all([
    loadBackupCatalog(storage, cluster, signal),
    listArchivedWal(storage, cluster, signal),
    listRestorePoints(storage, cluster, signal),
  ]);
  const histories = await loadTimelineHistories(storage, session, cluster, wal, signal);
  const catalog = await describeClusterContents(storage, session, cluster, { identity, manifests, wal, histories }, signal);
  return { identity, manifests, wal, histories, restorePoints, catalog };
}
