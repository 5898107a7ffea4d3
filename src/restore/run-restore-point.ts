// `lifeboat restore-point NAME`: creates a named restore point on the server and records it in the repository,
// so that a later `restore --to-name NAME` can be planned and refused early when the name is unknown.
import type { RuntimeCluster } from '../config/index.js';
import { LifeboatError } from '../errors/index.js';
import { connectPostgres, readServerInfo, requirePrivileges } from '../postgres/index.js';
import { storeRestorePoint, type RestorePointRecord } from '../repository/restore-points.js';
import { RESTORE_POINT_NAME_PATTERN, restorePointKey, type Storage } from '../storage/index.js';

export async function runRestorePoint(cluster: RuntimeCluster, storage: Storage, name: string, signal?: AbortSignal): Promise<RestorePointRecord> {
  if (!RESTORE_POINT_NAME_PATTERN.test(name)) {
    throw new LifeboatError('usage', `"${name}" is not a usable restore point name`, { hint: 'use 1-63 characters of A-Z, a-z, 0-9, "_", "." and "-"' });
  }
  // Refuse a duplicate before touching the server: recovery would stop at the first point of that name.
  if (await storage.head(restorePointKey(cluster.name, name), { signal })) {
    throw new LifeboatError('usage', `a restore point named "${name}" already exists for cluster "${cluster.name}"`, {
      hint: 'restore point names must be unique (recovery stops at the first one with that name); choose another name',
    });
  }
  const client = await connectPostgres(cluster.postgres, 'lifeboat-restore-point');
  try {
    await requirePrivileges(client, cluster.postgres.user, 'restore-point');
    const info = await readServerInfo(client);
    const { rows } = await client.query<{ lsn: string }>('select pg_create_restore_point($1)::text as lsn', [name]);
    const record: RestorePointRecord = { formatVersion: 1, cluster: cluster.name, name, lsn: rows[0]!.lsn, timeline: info.timeline, createdTime: new Date().toISOString() };
    await storeRestorePoint(storage, record, signal);
    return record;
  } finally {
    await client.end();
  }
}
