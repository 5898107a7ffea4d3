// Named restore points recorded in the repository by `lifeboat restore-point`, so `restore --to-name` can be
// planned: PostgreSQL would otherwise replay all WAL looking for an unknown name and then fail.
import { z } from 'zod';
import { LifeboatError, isLifeboatError } from '../errors/index.js';
import { loadJson, restorePointKey, restorePointsPrefix, storeJson, type Storage } from '../storage/index.js';

export const restorePointSchema = z.strictObject({
  formatVersion: z.literal(1),
  cluster: z.string(),
  name: z.string(),
  /** What pg_create_restore_point returned: recovery_target_name stops here. */
  lsn: z.string().regex(/^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/),
  timeline: z.number().int().positive(),
  createdTime: z.iso.datetime({ offset: true }),
});

export type RestorePointRecord = z.infer<typeof restorePointSchema>;

/** Record a restore point; names are unique per cluster (create-only). */
export async function storeRestorePoint(storage: Storage, record: RestorePointRecord, signal?: AbortSignal): Promise<void> {
  try {
    await storeJson(storage, restorePointKey(record.cluster, record.name), restorePointSchema.parse(record), { createOnly: true, signal });
  } catch (error) {
    if (isLifeboatError(error, 'objectExists')) {
      throw new LifeboatError('usage', `a restore point named "${record.name}" already exists for cluster "${record.cluster}"`, {
        hint: 'restore point names must be unique (recovery stops at the first one with that name); choose another name',
      });
    }
    throw error;
  }
}

export async function listRestorePoints(storage: Storage, cluster: string, signal?: AbortSignal): Promise<RestorePointRecord[]> {
  const records: RestorePointRecord[] = [];
  for await (const object of storage.list(restorePointsPrefix(cluster), { signal })) {
    if (object.key.endsWith('.json')) records.push(await loadJson(storage, object.key, restorePointSchema, { signal }));
  }
  return records.sort((a, b) => (a.createdTime < b.createdTime ? -1 : 1));
}
