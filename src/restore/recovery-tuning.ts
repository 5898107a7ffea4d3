// Replay tuned for the restore only: reloadable settings measured to speed up archive recovery (README, "Replay
// tuning"), written into the restored postgresql.auto.conf while it recovers and reset once it is promoted, so the
// new primary runs with exactly the configuration it was backed up with. Each line carries a marker comment: the
// reset (and an operator reading the file) finds exactly these, and a setting the source set itself is left alone.
import { execFile } from 'node:child_process';
import { chownSync, lstatSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findPgTool } from '../postgres/index.js';
import type { OsOwner } from './target-dir.js';

const run = promisify(execFile);

/**
 * The settings, all reloadable (a restart-only one such as shared_buffers could not be reset without a restart),
 * each measured to help by `npm run bench -- replay-tuning` (README, "Replay tuning"); nothing unmeasured.
 * recovery_prefetch=off: with the data files in the page cache (the restore has just written them) prefetching
 * only adds posix_fadvise calls and buffer lookups to the startup process: replay took 0.96x as long with them
 * cached and 0.70x with them evicted to this host's disk (and 0.84-0.92x in two noisier runs), redo CPU 2.0 s
 * instead of 2.2 (1.9 instead of 3.4). Prefetching exists for storage with real latency under a database the RAM
 * cannot hold, which this host cannot show: see {@link planRecoveryTuning} for when it applies.
 */
export const RECOVERY_TUNING: Readonly<Record<string, string>> = {
  recovery_prefetch: 'off',
};

/** Ends every tuning line in postgresql.auto.conf. */
export const RECOVERY_TUNING_MARKER = '# lifeboat: recovery only, reset after promotion';

/** What decides whether the tuning applies to a restore. */
export interface RecoveryTuningContext {
  /** Size of the restored data directory, in bytes. */
  dataBytes: number;
  /** RAM of this host, in bytes. */
  memoryBytes: number;
}

const settingName = (line: string): string | undefined => /^\s*([A-Za-z_][\w.]*)\s*=/.exec(line)?.[1]?.toLowerCase();
const isTuningLine = (line: string): boolean => line.trimEnd().endsWith(RECOVERY_TUNING_MARKER);

/**
 * The tuning lines to add to a restored postgresql.auto.conf whose other lines are `kept`: one per setting the
 * source does not set there itself (its own value wins, and is what the server must keep after promotion). None
 * when the data directory is larger than half the RAM: the files the restore wrote are then not all in the page
 * cache, the case the measurements do not cover.
 */
export function planRecoveryTuning(kept: readonly string[], context: RecoveryTuningContext): string[] {
  if (context.dataBytes > context.memoryBytes / 2) return [];
  const sourceSets = new Set(kept.filter((line) => !isTuningLine(line)).map(settingName));
  return Object.entries(RECOVERY_TUNING)
    .filter(([name]) => !sourceSets.has(name))
    .map(([name, value]) => `${name} = '${value}' ${RECOVERY_TUNING_MARKER}`);
}

/** Bytes of the regular files under `dir` (symbolic links, e.g. tablespaces, not followed). */
function directorySizeBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += lstatSync(join(entry.parentPath, entry.name)).size;
  }
  return total;
}

/** planRecoveryTuning for the restored data directory `targetDir` on this host. */
export function recoveryTuningFor(kept: readonly string[], targetDir: string): string[] {
  return planRecoveryTuning(kept, { dataBytes: directorySizeBytes(targetDir), memoryBytes: totalmem() });
}

/** `text` (a postgresql.auto.conf) without the tuning lines. */
export function withoutRecoveryTuning(text: string): string {
  return text
    .split('\n')
    .filter((line) => !isTuningLine(line))
    .join('\n');
}

/** The tuning a restored data directory still carries, by setting name (empty once reset, or when there is none). */
export function readRecoveryTuning(targetDir: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(join(targetDir, 'postgresql.auto.conf'), 'utf8');
  } catch {
    return {};
  }
  const entries = text
    .split('\n')
    .filter(isTuningLine)
    .map((line) => /^\s*([\w.]+)\s*=\s*'([^']*)'/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => [match[1]!, match[2]!] as const);
  return Object.fromEntries(entries);
}

function resetStatements(settings: Readonly<Record<string, string>>): string[] {
  return [...Object.keys(settings).map((name) => `ALTER SYSTEM RESET ${name}`), 'SELECT pg_reload_conf()'];
}

/** The SQL an operator runs on the promoted server to drop the tuning (what resetRecoveryTuning does). */
export function formatRecoveryTuningReset(settings: Readonly<Record<string, string>>): string {
  return resetStatements(settings)
    .map((sql) => `${sql};`)
    .join(' ');
}

/** What became of the tuning when the restored server was promoted. */
export interface RecoveryTuningOutcome {
  settings: Record<string, string>;
  reset: boolean;
  /** Why it could not be reset (the server then still runs with it: the operator must reset it). */
  error?: string;
}

export interface ResetRecoveryTuningOptions {
  targetDir: string;
  owner: OsOwner;
  port: number;
  socketDir: string;
  bindir?: string;
}

function asOwner(owner: OsOwner, command: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', owner.name, '--', command, ...args]] : [command, args];
}

/**
 * After promotion: `ALTER SYSTEM RESET` of every tuned setting and `pg_reload_conf()`, as the owner over the
 * socket. When that login is refused (no role named like the OS user), the same change is made to the file and
 * the server reloaded with `pg_ctl reload`. Returns the settings reset; throws when neither way worked.
 */
export async function resetRecoveryTuning(options: ResetRecoveryTuningOptions): Promise<Record<string, string>> {
  const settings = readRecoveryTuning(options.targetDir);
  if (Object.keys(settings).length === 0) return settings;
  // One -c per statement: ALTER SYSTEM cannot run inside the transaction one -c with several statements makes.
  const statements = resetStatements(settings).flatMap((sql) => ['-c', sql]);
  const [psql, psqlArgs] = asOwner(options.owner, findPgTool('psql', options.bindir), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', options.socketDir, '-p', String(options.port), '-d', 'postgres', ...statements]);
  try {
    await run(psql, psqlArgs, { timeout: 30_000, env: { ...process.env, PGUSER: options.owner.name, PGCONNECT_TIMEOUT: '10' } });
  } catch {
    const path = join(options.targetDir, 'postgresql.auto.conf');
    const temp = `${path}.lifeboat-tmp`;
    writeFileSync(temp, withoutRecoveryTuning(readFileSync(path, 'utf8')), { mode: 0o600 });
    chownSync(temp, options.owner.uid, options.owner.gid);
    renameSync(temp, path);
    const [pgCtl, pgCtlArgs] = asOwner(options.owner, findPgTool('pg_ctl', options.bindir), ['-D', options.targetDir, 'reload']);
    await run(pgCtl, pgCtlArgs, { timeout: 30_000 });
  }
  return settings;
}

/** resetRecoveryTuning for a server just promoted: undefined when there was no tuning; a failure is reported, not thrown. */
export async function resetAfterPromotion(options: ResetRecoveryTuningOptions): Promise<RecoveryTuningOutcome | undefined> {
  const settings = readRecoveryTuning(options.targetDir);
  if (Object.keys(settings).length === 0) return undefined;
  try {
    return { settings: await resetRecoveryTuning(options), reset: true };
  } catch (error) {
    return { settings, reset: false, error: error instanceof Error ? error.message : String(error) };
  }
}
