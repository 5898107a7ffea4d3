// An estimate of a full backup's tar size, for its progress bar and ETA: the databases' sizes as PostgreSQL
// reports them (the tar adds little: global/, config files; pg_wal is not in it). Databases the role may not
// see are left out; when the query fails altogether there is no estimate, never an error: it is only for display.
import type { RuntimeCluster } from '../../config/index.js';
import { connectPostgres } from '../../postgres/index.js';

export async function estimateBackupSizeBytes(cluster: RuntimeCluster): Promise<number | undefined> {
  try {
    const client = await connectPostgres(cluster.postgres, 'lifeboat-backup');
    try {
      const { rows } = await client.query<{ bytes: string | null }>(
        `select sum(pg_database_size(oid))::text as bytes from pg_database
          where has_database_privilege(oid, 'CONNECT') or pg_has_role('pg_read_all_stats', 'member')`,
      );
      const bytes = Number(rows[0]?.bytes ?? NaN);
      return Number.isFinite(bytes) && bytes > 0 ? bytes : undefined;
    } finally {
      await client.end();
    }
  } catch {
    return undefined;
  }
}
