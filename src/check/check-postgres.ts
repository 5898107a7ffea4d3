// Pre-flight checks of one cluster: the SQL connection, the settings physical backup and WAL streaming
// need, every privilege Lifeboat's commands need, how much WAL its slots retain, a real replication connection
// made by a client program (exercising the PGPASSFILE path), and the client programs' major version.
import type { RuntimeCluster } from '../config/index.js';
import { connectPostgres, formatServerVersion, readServerInfo, runPgTool, type PgClient, type ServerInfo } from '../postgres/index.js';
import { checkStep, failed, passed, type CheckItem } from './check-item.js';
import { checkPrivileges } from './check-privileges.js';
import { checkSlotRetention } from './check-slot-retention.js';

/** Replication connections Lifeboat holds at once: pg_receivewal plus pg_basebackup. */
const WAL_SENDERS_NEEDED = 2;
/** The streaming slot and the guard slot. */
const SLOTS_NEEDED = 2;

function settingsItems(info: ServerInfo): CheckItem[] {
  const items: CheckItem[] = [];
  items.push(
    info.walLevel === 'replica' || info.walLevel === 'logical'
      ? passed('wal_level', info.walLevel)
      : failed('wal_level', `wal_level is ${info.walLevel}; physical backups need replica or logical`, 'ALTER SYSTEM SET wal_level = replica; then restart the server'),
  );
  items.push(
    info.maxWalSenders >= WAL_SENDERS_NEEDED
      ? passed('max_wal_senders', String(info.maxWalSenders))
      : failed('max_wal_senders', `max_wal_senders is ${info.maxWalSenders}; lifeboat needs ${WAL_SENDERS_NEEDED}`, `ALTER SYSTEM SET max_wal_senders = ${WAL_SENDERS_NEEDED + 8}; then restart`),
  );
  items.push(
    info.maxReplicationSlots >= SLOTS_NEEDED
      ? passed('max_replication_slots', String(info.maxReplicationSlots))
      : failed('max_replication_slots', `max_replication_slots is ${info.maxReplicationSlots}; lifeboat needs ${SLOTS_NEEDED}`, `ALTER SYSTEM SET max_replication_slots = ${SLOTS_NEEDED + 8}; then restart`),
  );
  items.push(
    info.userTablespaces.length === 0
      ? passed('tablespaces', 'only pg_default and pg_global')
      : failed('tablespaces', `user tablespaces ${info.userTablespaces.join(', ')} cannot be streamed by pg_basebackup to stdout`, 'move their objects to pg_default (ALTER TABLE ... SET TABLESPACE pg_default)'),
  );
  return items;
}

/** Run a probe that yields several items; its failure becomes one failed item named `name`. */
async function probeItems(name: string, probe: () => Promise<CheckItem[]>): Promise<CheckItem[]> {
  let found: CheckItem[] = [];
  const step = await checkStep(name, async () => {
    found = await probe();
    return '';
  });
  return step.ok ? found : [step];
}

export async function checkPostgres(cluster: RuntimeCluster, signal?: AbortSignal, archive = false): Promise<{ items: CheckItem[]; info?: ServerInfo }> {
  const items: CheckItem[] = [];
  let info: ServerInfo | undefined;
  let client: PgClient | undefined;
  items.push(
    await checkStep('postgres connection', async () => {
      client = await connectPostgres(cluster.postgres, 'lifeboat-check');
      info = await readServerInfo(client);
      return `PostgreSQL ${formatServerVersion(info.versionNum)} at ${cluster.postgres.host}:${cluster.postgres.port}, system ${info.systemIdentifier}, timeline ${info.timeline}`;
    }),
  );
  const sql: PgClient | undefined = client;
  if (!info || !sql) {
    await sql?.end();
    return { items };
  }
  items.push(...settingsItems(info));
  try {
    items.push(...(await probeItems('privileges', () => checkPrivileges(sql, cluster, archive))));
    items.push(...(await probeItems('slot retention', async () => [await checkSlotRetention(sql, cluster)])));
  } finally {
    await sql.end();
  }
  const server = info;
  const replication = await checkStep('replication connection', async () => {
      const out = await runPgTool(cluster, 'psql', ['-X', '-A', '-t', '-F', ' ', '-c', 'IDENTIFY_SYSTEM', 'replication=true'], { signal });
      const systemId = out.trim().split(/\s+/)[0];
      if (systemId !== server.systemIdentifier) {
        throw new Error(`replication connection reached system ${systemId ?? '(none)'}, SQL reached ${server.systemIdentifier}`);
      }
      return `IDENTIFY_SYSTEM ok (system ${systemId})`;
  });
  if (!replication.ok && /no pg_hba.conf entry for replication/.test(replication.detail)) {
    replication.hint = `add "host replication ${cluster.postgres.user} <lifeboat host address>/32 scram-sha-256" to pg_hba.conf, then select pg_reload_conf()`;
  }
  items.push(replication);
  items.push(
    await checkStep('client programs', async () => {
      const out = await runPgTool(cluster, 'pg_basebackup', ['--version'], { signal });
      const major = Number(/(\d+)(?:\.\d+)?/.exec(out)?.[1]);
      if (major !== server.majorVersion) {
        throw new Error(`pg_basebackup is version ${major}, the server is ${server.majorVersion}; set clusters[].postgres.bindir to the ${server.majorVersion} client programs`);
      }
      return out.trim();
    }),
  );
  return { items, info };
}
