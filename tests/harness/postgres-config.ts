// The configuration every test cluster gets, written once here so the local and container paths agree:
// server settings, a pg_hba.conf that enforces scram-sha-256 on TCP, and the `lifeboat` role's grants.

/** Server settings the harness always applies; callers' settings are appended and win. */
export const BASE_SETTINGS: Readonly<Record<string, string>> = {
  listen_addresses: '127.0.0.1',
  wal_level: 'replica',
  max_wal_senders: '10',
  max_replication_slots: '10',
  track_commit_timestamp: 'on',
  password_encryption: 'scram-sha-256',
  // Visible in the log tail we attach to failures.
  log_line_prefix: '%m [%p] %q%u@%d ',
};

/** Formats `settings` as postgresql.conf lines; every value is quoted, which PostgreSQL accepts for all types. */
export function formatPostgresConf(settings: Readonly<Record<string, string>>): string {
  const lines = Object.entries(settings).map(([name, value]) => `${name} = '${value.replaceAll("'", "''")}'`);
  return `# written by tests/harness\n${lines.join('\n')}\n`;
}

/**
 * pg_hba.conf: the postgres OS user may use the unix socket without a password (trust, as it owns the
 * directory); everything over TCP, normal and replication connections alike, needs a scram-sha-256 password.
 * `clientCidr` is 127.0.0.1/32 locally; the container path passes 0.0.0.0/0 (Docker NATs clients).
 */
export function formatPgHba(clientCidr = '127.0.0.1/32'): string {
  return [
    '# written by tests/harness',
    'local   all          postgres                 trust',
    'local   replication  postgres                 trust',
    `host    all          all       ${clientCidr}  scram-sha-256`,
    `host    replication  all       ${clientCidr}  scram-sha-256`,
    '',
  ].join('\n');
}

/**
 * SQL creating the `lifeboat` role: no superuser, but what a backup daemon needs.
 * - LOGIN REPLICATION: base backups and WAL streaming over the replication protocol.
 * - pg_monitor (includes pg_read_all_settings and pg_read_all_stats): read settings, pg_stat_*, pg_ls_waldir.
 * - EXECUTE on the backup-control functions, which are revoked from PUBLIC by default:
 *   pg_backup_start/pg_backup_stop (pg_start_backup/pg_stop_backup before 15), pg_create_restore_point,
 *   pg_switch_wal.
 * - pg_checkpoint (15+): CHECKPOINT before a backup.
 * - The schema `lifeboat`, owned by the role, where the daemon creates its drill heartbeat table.
 */
export function lifeboatRoleSql(password: string, serverMajor: number): string[] {
  const quoted = `'${password.replaceAll("'", "''")}'`;
  const backupFunctions =
    serverMajor >= 15
      ? ['pg_backup_start(text, boolean)', 'pg_backup_stop(boolean)']
      : ['pg_start_backup(text, boolean, boolean)', 'pg_stop_backup(boolean, boolean)'];
  const functions = [...backupFunctions, 'pg_create_restore_point(text)', 'pg_switch_wal()'];
  return [
    `CREATE ROLE lifeboat WITH LOGIN REPLICATION PASSWORD ${quoted}`,
    'GRANT pg_monitor, pg_read_all_settings TO lifeboat',
    ...(serverMajor >= 15 ? ['GRANT pg_checkpoint TO lifeboat'] : []),
    ...functions.map((fn) => `GRANT EXECUTE ON FUNCTION pg_catalog.${fn} TO lifeboat`),
    'CREATE SCHEMA lifeboat AUTHORIZATION lifeboat',
  ];
}
