// Reads what Lifeboat must know about a server before touching it: version, identity, timeline, and the
// settings that make physical backup and WAL streaming possible.
import type pg from 'pg';

export interface ServerInfo {
  /** server_version_num, e.g. 150019. */
  versionNum: number;
  /** Major version, e.g. 15. */
  majorVersion: number;
  /** pg_control's system identifier, as a decimal string (it exceeds 2^53). */
  systemIdentifier: string;
  /** Current timeline of the server. */
  timeline: number;
  inRecovery: boolean;
  walLevel: string;
  maxWalSenders: number;
  maxReplicationSlots: number;
  /** True when the connected role may open replication connections. */
  roleCanReplicate: boolean;
  /** Names of user tablespaces (pg_basebackup cannot stream them to stdout). */
  userTablespaces: string[];
  /** wal_segment_size in bytes (16 MiB unless initdb --wal-segsize said otherwise). */
  walSegmentSizeBytes: number;
}

/** server_version_num as people write it: 150020 -> `15.20`, 90624 -> `9.6.24` (before 10 the major had two parts). */
export function formatServerVersion(versionNum: number): string {
  const major = Math.floor(versionNum / 10000);
  if (major >= 10) return `${major}.${versionNum % 10000}`;
  return `${major}.${Math.floor(versionNum / 100) % 100}.${versionNum % 100}`;
}

export async function readServerInfo(client: pg.Client): Promise<ServerInfo> {
  const { rows } = await client.query<{
    version_num: string;
    system_identifier: string;
    timeline: number;
    in_recovery: boolean;
    wal_level: string;
    max_wal_senders: string;
    max_replication_slots: string;
    can_replicate: boolean;
    wal_segment_size: string;
  }>(`
    select current_setting('server_version_num') as version_num,
           (select system_identifier::text from pg_control_system()) as system_identifier,
           -- After a promotion pg_control keeps the old timeline until the next checkpoint; the current WAL file
           -- name is right at once on a primary.
           case when pg_is_in_recovery() then (select timeline_id from pg_control_checkpoint())
                else ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int end as timeline,
           pg_is_in_recovery() as in_recovery,
           current_setting('wal_level') as wal_level,
           current_setting('max_wal_senders') as max_wal_senders,
           current_setting('max_replication_slots') as max_replication_slots,
           (select rolreplication or rolsuper from pg_roles where rolname = current_user) as can_replicate,
           (select setting from pg_settings where name = 'wal_segment_size') as wal_segment_size`);
  const row = rows[0]!;
  const spaces = await client.query<{ spcname: string }>(
    `select spcname from pg_tablespace where spcname not in ('pg_default', 'pg_global') order by spcname`,
  );
  const versionNum = Number(row.version_num);
  return {
    versionNum,
    majorVersion: Math.floor(versionNum / 10000),
    systemIdentifier: row.system_identifier,
    timeline: row.timeline,
    inRecovery: row.in_recovery,
    walLevel: row.wal_level,
    maxWalSenders: Number(row.max_wal_senders),
    maxReplicationSlots: Number(row.max_replication_slots),
    roleCanReplicate: row.can_replicate,
    userTablespaces: spaces.rows.map((r) => r.spcname),
    walSegmentSizeBytes: Number(row.wal_segment_size),
  };
}
