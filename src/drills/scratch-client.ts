// SQL on a drill's scratch server: over its private socket folder, as the bootstrap superuser (pg_hba trusts local
// connections there; see scratch-server.ts). The superuser's name is the source's, learned on a first connection
// as the configured role, which exists on the restored server because the source's roles came back with it.
import type { RuntimeCluster } from '../config/index.js';
import { connectPostgres, type PgClient } from '../postgres/index.js';

export interface ScratchServer {
  socketDir: string;
  port: number;
}

export interface ScratchConnector {
  superuser: string;
  /** A connection to `database` as the superuser; the caller ends it. */
  connect(database: string): Promise<PgClient>;
}

function settings(cluster: RuntimeCluster, server: ScratchServer, user: string, dbname: string): RuntimeCluster['postgres'] {
  return { host: server.socketDir, port: server.port, user, dbname, sslmode: 'disable' };
}

export async function createScratchConnector(cluster: RuntimeCluster, server: ScratchServer): Promise<ScratchConnector> {
  const first = await connectPostgres(settings(cluster, server, cluster.postgres.user, cluster.postgres.dbname), 'lifeboat drill');
  let superuser: string;
  try {
    superuser = (await first.query<{ rolname: string }>('select rolname from pg_roles where oid = 10')).rows[0]!.rolname;
  } finally {
    await first.end().catch(() => undefined);
  }
  return { superuser, connect: (database) => connectPostgres(settings(cluster, server, superuser, database), 'lifeboat drill') };
}
