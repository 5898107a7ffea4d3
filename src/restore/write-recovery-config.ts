// Makes a restored data directory safe and self-contained, then arms recovery: no standby.signal, no link back
// to the original primary, archiving off, its own port and socket folder (so a plain pg_ctl restart works), a
// minimal postgresql.conf when the source kept its config elsewhere, everything fsynced, and only then
// global/pg_control and recovery.signal, last.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, openSync, closeSync, fsyncSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LifeboatError } from '../errors/index.js';
import { formatLsn } from '../postgres/index.js';
import { PENDING_PG_CONTROL } from './fetch-base.js';
import { recoveryTuningFor, withoutRecoveryTuning } from './recovery-tuning.js';
import type { RestoreTarget, TargetAction } from './restore-target.js';
import type { OsOwner } from './target-dir.js';

export interface RecoverySettings {
  restoreCommand: string;
  target: RestoreTarget;
  /** recovery_target_timeline. */
  timeline: number | 'latest';
  action: TargetAction;
  /** For --to-name. */
  backupId: string;
  /** The port the restored server listens on, whoever starts it (restore --start or a plain pg_ctl start). */
  port: number;
  /** Where it puts its Unix socket: a folder that exists and its owner can write (the source's may not). */
  socketDir: string;
}

/** Settings that would tie the restored server to the original or make it archive into the live repository. */
const NEUTRALISED = ['primary_conninfo', 'primary_slot_name', 'synchronous_standby_names', 'archive_mode', 'archive_command', 'archive_library', 'restore_command'];
/** Settings the restore writes itself: the source's would clash with it on the same host (or name folders that do not exist here). */
const REPLACED = ['port', 'unix_socket_directories'];
const RECOVERY_KEYS = /^\s*(recovery_target\w*|restore_command)\s*=/;

export function quoteConf(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function targetLines(settings: RecoverySettings): string[] {
  const { target } = settings;
  const lines: string[] = [];
  switch (target.kind) {
    case 'time':
      lines.push(`recovery_target_time = ${quoteConf(target.text)}`, `recovery_target_inclusive = ${target.inclusive ? 'on' : 'off'}`);
      break;
    case 'lsn':
      lines.push(`recovery_target_lsn = ${quoteConf(formatLsn(target.lsn))}`, `recovery_target_inclusive = ${target.inclusive ? 'on' : 'off'}`);
      break;
    case 'name':
      lines.push(`recovery_target_name = ${quoteConf(target.name)}`);
      break;
    case 'immediate':
      lines.push(`recovery_target = 'immediate'`);
      break;
    case 'latest':
      break;
  }
  if (target.kind !== 'latest') lines.push(`recovery_target_action = ${quoteConf(settings.action)}`);
  lines.push(`recovery_target_timeline = ${quoteConf(String(settings.timeline))}`);
  return lines;
}

function writeOwned(path: string, text: string, owner: OsOwner): void {
  writeFileSync(path, text, { mode: 0o600 });
  chownSync(path, owner.uid, owner.gid);
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Returns true when a minimal postgresql.conf (and pg_hba.conf) had to be written. */
export function writeRecoveryConfig(targetDir: string, owner: OsOwner, settings: RecoverySettings, now: Date): { wroteMinimalConfig: boolean } {
  const pending = join(targetDir, PENDING_PG_CONTROL);
  if (!existsSync(pending)) {
    throw new LifeboatError('objectCorrupted', `the restored files lack global/pg_control`, { hint: 'the base backup is incomplete; verify it (`lifeboat verify --backup ID`) and use another backup' });
  }
  // 1. Never stream from (or wait for) the original server.
  rmSync(join(targetDir, 'standby.signal'), { force: true });
  rmSync(join(targetDir, 'recovery.signal'), { force: true });

  // 2. Debian keeps postgresql.conf and pg_hba.conf in /etc: the data directory alone would not start.
  let wroteMinimalConfig = false;
  if (!existsSync(join(targetDir, 'postgresql.conf'))) {
    writeOwned(join(targetDir, 'postgresql.conf'), `# Minimal configuration written by lifeboat restore: the source kept its configuration outside the data directory.\nlisten_addresses = 'localhost'\n`, owner);
    wroteMinimalConfig = true;
  }
  if (!existsSync(join(targetDir, 'pg_hba.conf'))) {
    writeOwned(join(targetDir, 'pg_hba.conf'), `# Written by lifeboat restore\nlocal all all peer\nhost all all 127.0.0.1/32 scram-sha-256\nhost all all ::1/128 scram-sha-256\n`, owner);
  }
  if (!existsSync(join(targetDir, 'pg_ident.conf'))) writeOwned(join(targetDir, 'pg_ident.conf'), '', owner);

  // 3. postgresql.auto.conf wins over postgresql.conf: neutralise links to the original and arm recovery there.
  const autoPath = join(targetDir, 'postgresql.auto.conf');
  const previous = existsSync(autoPath) ? withoutRecoveryTuning(readFileSync(autoPath, 'utf8')).split('\n') : ['# Do not edit this file manually!'];
  const kept = previous.filter((line) => ![...NEUTRALISED, ...REPLACED].some((key) => new RegExp(`^\\s*${key}\\s*=`).test(line)) && !RECOVERY_KEYS.test(line));
  const block = [
    `# lifeboat restore of backup ${settings.backupId} at ${now.toISOString()}`,
    `primary_conninfo = ''`,
    `primary_slot_name = ''`,
    `synchronous_standby_names = ''`,
    `archive_mode = 'off'`,
    // Here, not on pg_ctl's command line: a server stopped and started again by hand must come up the same way.
    `port = ${settings.port}`,
    `unix_socket_directories = ${quoteConf(settings.socketDir)}`,
    `restore_command = ${quoteConf(settings.restoreCommand)}`,
    ...targetLines(settings),
    // Faster replay, for the recovery only: reset after promotion (recovery-tuning.ts).
    ...recoveryTuningFor(kept, targetDir),
  ];
  writeOwned(autoPath, `${[...kept.filter((line, i) => line !== '' || i < kept.length - 1), ...block].join('\n')}\n`, owner);

  // 4. Everything on disk before the files that make the directory startable.
  execFileSync('sync', ['-f', targetDir]);
  renameSync(pending, join(targetDir, 'global', 'pg_control'));
  fsyncPath(join(targetDir, 'global'));
  writeOwned(join(targetDir, 'recovery.signal'), '', owner);
  fsyncPath(join(targetDir, 'recovery.signal'));
  fsyncPath(targetDir);
  return { wroteMinimalConfig };
}
