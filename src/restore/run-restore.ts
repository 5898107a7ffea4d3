// `lifeboat restore`: point-in-time restore of a cluster into a new data directory, from the repository and the
// key alone. Plan first (shared with --dry-run), refuse what cannot be right before writing anything, then fetch
// the base backup and WAL in parallel, arm recovery last, and optionally start and watch the server.
import { chownSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { RuntimeConfig } from '../config/index.js';
import { createDecryptionSession, type KeyProvider } from '../crypto/index.js';
import { LifeboatError } from '../errors/index.js';
import { formatLsn, parseLsn, toTimelineId, walSegmentOf } from '../postgres/index.js';
import { storageConfigFrom, type Storage } from '../storage/index.js';
import { startBackgroundFlush } from './background-flush.js';
import { checkOwnerAccess } from './check-owner-access.js';
import { checkPortFree } from './check-port-free.js';
import { checkReachedPlan, type RecoveryShortfall } from './check-reached-plan.js';
import { estimateRestore, type RestoreEstimate } from './estimate-restore.js';
import { fetchBase } from './fetch-base.js';
import { loadRestoreInputs } from './load-restore-inputs.js';
import { planRestore, type RestorePlan } from './plan-restore.js';
import { storeRestoreFetchConfig, type RestoreFetchConfig } from './restore-fetch-config.js';
import type { RestoreTarget, TargetAction } from './restore-target.js';
import { startRestoredServer, stopRestoredServer, type ReachedPoint } from './start-restored-server.js';
import { checkTargetDir, inspectTargetDir, prepareTargetDir, type TargetDirState } from './target-dir.js';
import { plannedWalRanges } from './wal-fetch/planned-wal.js';
import { HISTORY_RESERVE_BYTES, prefetchWal } from './wal-fetch/prefetch-wal.js';
import { keepAbsentMarkers } from './wal-fetch/mark-absent-wal.js';
import { formatRestoreCommandScript, IN_FLIGHT_POLL_MS, parseRestoreCommandLog, restoreCommandFor, storeRestoreCommandScript, type RestoreCommandLogLine } from './wal-fetch/restore-command.js';
import { writeRecoveryConfig } from './write-recovery-config.js';

export interface RunRestoreOptions {
  config: RuntimeConfig;
  cluster: string;
  storage: Storage;
  keys: KeyProvider;
  log: Logger;
  signal: AbortSignal;
  targetDir: string;
  target: RestoreTarget;
  action: TargetAction;
  timeline: 'latest' | number;
  force: boolean;
  dryRun: boolean;
  /** The port the restored server listens on, written into its configuration. Default {@link DEFAULT_RESTORE_PORT}. */
  port?: number;
  /** Start the server (on `port`) and wait up to `timeoutMs` for recovery to reach the target. */
  start?: { timeoutMs: number };
  onProgress?: (phase: 'base' | 'wal', doneBytes: number, totalBytes: number) => void;
  /**
   * Called once recovery is armed and before the server starts, to adjust the restored configuration (a drill
   * makes it a scratch server). Settings appended to postgresql.auto.conf win over the restore's own.
   */
  configureServer?: (dataDir: string, owner: TargetDirState['owner']) => void;
}

/** How PostgreSQL got the WAL it asked restore_command for (known once a started recovery has ended). */
export interface WalServed {
  /** Files it took from the prefetch folder (one `mv`, no Node process). */
  fromPrefetch: number;
  /** Of those, files whose download replay had to wait for (it had caught up with the prefetch), and about how long in all. */
  waitedForPrefetch: { files: number; ms: number };
  /** Planned segments the prefetch folder did not have in time: `lifeboat wal fetch` fetched them. */
  plannedMisses: string[];
  /** Names answered "not in the repository" by the script from the restoring process's listing, without Node. */
  answeredAbsent: number;
  /** Other names `lifeboat wal fetch` answered (history probes, the segment after the end of the archive). */
  otherRequests: number;
  /** The first few of those names. */
  otherNames: string[];
}

export interface RestoreResult {
  plan: RestorePlan;
  targetDir: TargetDirState;
  /** Bytes the target's file system must hold: the data directory plus the prefetch window (or the WAL, if less). */
  neededBytes: number;
  /** The most bytes of WAL the prefetch folder holds at once (`restore.prefetchWindowMiB`, or less when the WAL is smaller). */
  prefetchBytes: number;
  /** Seconds until promotion, from the measured rates in estimate-restore.ts. */
  estimate: RestoreEstimate;
  /** Port and socket folder the restored configuration sets; the server log is `<workDir>/postgres.log`. */
  server: { port: number; socketDir: string; logFile: string };
  dryRun: boolean;
  workDir: string;
  phases: { planMs: number; fetchBaseMs?: number; fetchWalMs?: number; replayMs?: number };
  reached?: ReachedPoint;
  walServed?: WalServed;
}

/** The restored server's port when none is given: next to PostgreSQL's default, so it does not clash with a source on the same host. */
export const DEFAULT_RESTORE_PORT = 5433;

/** This very lifeboat, as restore_command runs it: node and the CLI entry point. */
const LIFEBOAT_COMMAND = [process.execPath, fileURLToPath(new URL('../../bin/lifeboat.js', import.meta.url))] as const;

/** The files of the work folder that serve recovery's WAL, by name. */
const WORK_FILES = {
  fetchConfig: 'wal-fetch.json',
  keyCopy: 'lifeboat.key',
  prefetchDir: 'prefetch',
  restoreCommand: 'restore-command.sh',
  commandLog: 'restore-command.log',
  prefetchPid: 'prefetch.pid',
} as const;

/** Once recovery is over, the fetch config (credentials), the key copy and what served WAL must not outlive it. */
function removeFetchMaterial(workDir: string): void {
  for (const name of Object.values(WORK_FILES)) rmSync(`${workDir}/${name}`, { recursive: true, force: true });
}

/** The most bytes the prefetch folder will hold: the window, or all planned WAL (and history files) if less. */
function prefetchBytesFor(config: RunRestoreOptions['config'], plan: RestorePlan, historyFiles: number, segmentSizeBytes: number): number {
  const windowBytes = config.restore.prefetchWindowMiB * 1024 * 1024;
  const allBytes = plan.wal.length * segmentSizeBytes + historyFiles * HISTORY_RESERVE_BYTES;
  return Math.min(windowBytes, allBytes);
}

/** How PostgreSQL was served, from restore_command's log. */
function walServedFrom(workDir: string, plan: RestorePlan): WalServed {
  let lines: RestoreCommandLogLine[] = [];
  try {
    lines = parseRestoreCommandLog(readFileSync(`${workDir}/${WORK_FILES.commandLog}`, 'latin1'));
  } catch {
    // No log: restore_command was never run.
  }
  const planned = new Set(plan.wal.map((w) => w.segment as string));
  const fetched = lines.filter((line) => line.source === 'fetch');
  const plannedMisses = fetched.filter((line) => planned.has(line.name)).map((line) => line.name);
  const waited = lines.filter((line) => line.source === 'served' && line.waitedPolls > 0);
  const others = fetched.filter((line) => !planned.has(line.name)).map((line) => line.name);
  return {
    fromPrefetch: lines.filter((line) => line.source === 'served').length,
    waitedForPrefetch: { files: waited.length, ms: waited.reduce((sum, line) => sum + line.waitedPolls * IN_FLIGHT_POLL_MS, 0) },
    plannedMisses,
    answeredAbsent: lines.filter((line) => line.source === 'absent').length,
    otherRequests: others.length,
    otherNames: others.slice(0, 5),
  };
}

function fetchConfigFor(options: RunRestoreOptions, workDir: string, prefetchDir: string, segmentSizeBytes: number, owner: TargetDirState['owner'], plannedSegments: readonly string[]): RestoreFetchConfig {
  const { config } = options;
  let encryption: RestoreFetchConfig['encryption'];
  if (config.encryption.provider === 'local') {
    // The PostgreSQL OS user reads its own 0600 copy; the original key file may not be readable to it.
    const keyCopy = `${workDir}/${WORK_FILES.keyCopy}`;
    copyFileSync(config.encryption.keyFile, keyCopy);
    chownSync(keyCopy, owner.uid, owner.gid);
    encryption = { provider: 'local', keyFile: keyCopy };
  } else {
    const c = config.encryption.credentials;
    encryption = {
      provider: 'aws-kms',
      keyId: config.encryption.keyId,
      region: config.encryption.region,
      ...(config.encryption.endpoint ? { endpoint: config.encryption.endpoint } : {}),
      ...(c ? { credentials: { accessKeyId: c.accessKeyId.reveal(), secretAccessKey: c.secretAccessKey.reveal(), ...(c.sessionToken ? { sessionToken: c.sessionToken.reveal() } : {}) } } : {}),
    };
  }
  const repository = storageConfigFrom(config.repository) as RestoreFetchConfig['repository'];
  return { formatVersion: 1, cluster: options.cluster, repository, encryption, prefetchDir, segmentSizeBytes, plannedWal: plannedWalRanges(plannedSegments) };
}

/** The first planned segment (from where replay stopped) that the repository no longer holds, if any. */
async function firstMissing(shortfall: RecoveryShortfall, storage: Storage, signal: AbortSignal): Promise<string | undefined> {
  // In replay order and sequentially: the culprit is almost always the first or second one asked about.
  for (const wal of shortfall.unreplayed.slice(0, 64)) {
    if ((await storage.head(wal.key, { signal }).catch(() => ({}))) === undefined) return wal.segment;
  }
  return undefined;
}

async function shortfallError(shortfall: RecoveryShortfall, result: RestoreResult, storage: Storage, signal: AbortSignal): Promise<LifeboatError> {
  const missing = await firstMissing(shortfall, storage, signal);
  const state = result.reached?.state === 'promoted' ? 'the server promoted early and was stopped' : `the server ${result.reached?.state ?? 'stopped'} early`;
  const culprit = missing !== undefined ? `: WAL segment ${missing}, planned for this restore, is no longer in the repository` : shortfall.unreplayed[0] ? `: replay did not get past WAL segment ${shortfall.unreplayed[0].segment}` : '';
  return new LifeboatError('objectNotFound', `recovery ended at LSN ${formatLsn(shortfall.reachedLsn)}, short of ${shortfall.meaning} (${formatLsn(shortfall.minimumLsn)})${culprit}; ${state}, and it lacks every transaction after that point`, {
    hint: `do not use ${result.targetDir.path}: put the missing WAL back (or use a copy of the repository that has it) and restore again with --force, or restore to an earlier target; the server log is ${result.server.logFile}`,
  });
}

export async function runRestore(options: RunRestoreOptions): Promise<RestoreResult> {
  const { storage, keys, signal } = options;
  const log = options.log.child({ component: 'restore', cluster: options.cluster });
  const started = Date.now();
  const session = createDecryptionSession(keys, { expectedScope: { cluster: options.cluster }, signal });
  try {
    // 1. The plan, from the repository alone; every refusal about the target is decided here.
    const inputs = await loadRestoreInputs(storage, session, options.cluster, signal);
    const plan = planRestore({
      cluster: options.cluster,
      ...inputs,
      segmentSizeBytes: inputs.identity.walSegmentSizeBytes,
      target: options.target,
      timeline: options.timeline,
      systemIdentifier: inputs.identity.systemIdentifier,
    });
    const targetDir = inspectTargetDir(options.targetDir);
    const workDir = `${targetDir.path}.lifeboat-restore`;
    const segmentSizeBytes = inputs.identity.walSegmentSizeBytes;
    const prefetchBytes = prefetchBytesFor(options.config, plan, inputs.wal.histories.size, segmentSizeBytes);
    const neededBytes = plan.restoredBytes + prefetchBytes;
    const port = options.port ?? DEFAULT_RESTORE_PORT;
    // The socket next to the server log, in the work folder the restore owns: the source's socket folder may not
    // exist on this host. It outlives recovery (only the fetch material is removed at promotion).
    const server = { port, socketDir: workDir, logFile: `${workDir}/postgres.log` };
    const result: RestoreResult = {
      plan,
      targetDir,
      neededBytes,
      prefetchBytes,
      estimate: estimateRestore(plan),
      server,
      dryRun: options.dryRun,
      workDir,
      phases: { planMs: Date.now() - started },
    };
    // 2. Refuse, before writing anything: missing WAL, a busy or non-empty target, too little space, a taken
    //    port, and a PostgreSQL OS user that could not run the recovery (restore_command runs as that user).
    const refusal = async (): Promise<void> => {
      if (plan.missing.length > 0) {
        throw new LifeboatError('objectNotFound', `WAL segment${plan.missing.length > 1 ? 's' : ''} ${plan.missing.slice(0, 5).join(', ')}${plan.missing.length > 5 ? ` (and ${plan.missing.length - 5} more)` : ''} needed for this restore ${plan.missing.length > 1 ? 'are' : 'is'} not in the repository`, {
          hint: 'choose an earlier target (before the gap), or restore from the other region if it has them; `lifeboat verify` lists every gap',
        });
      }
      checkTargetDir(targetDir, { force: options.force, neededBytes });
      if (options.start) await checkPortFree(port);
      await checkOwnerAccess({ owner: targetDir.owner, targetDir: targetDir.path, repository: options.config.repository, lifeboatCommand: LIFEBOAT_COMMAND, ...(plan.wal[0] ? { sampleKey: plan.wal[0].key } : {}), signal });
    };
    if (options.dryRun) {
      try {
        await refusal();
      } catch (error) {
        // The plan is still worth printing; the caller reports the refusal after it.
        (error as { restorePlan?: RestoreResult }).restorePlan = result;
        throw error;
      }
      return result;
    }
    await refusal();

    // 3. Target and work folders, owned by the PostgreSQL OS user. A work folder left by an earlier restore is
    //    emptied: its prefetched WAL belongs to another plan (a shorter partial would end recovery early).
    prepareTargetDir(targetDir, options.force);
    rmSync(workDir, { recursive: true, force: true });
    const prefetchDir = `${workDir}/${WORK_FILES.prefetchDir}`;
    mkdirSync(prefetchDir, { recursive: true, mode: 0o700 });
    chownSync(workDir, targetDir.owner.uid, targetDir.owner.gid);
    chownSync(prefetchDir, targetDir.owner.uid, targetDir.owner.gid);
    const fetchConfigPath = `${workDir}/${WORK_FILES.fetchConfig}`;
    storeRestoreFetchConfig(fetchConfigPath, fetchConfigFor(options, workDir, prefetchDir, segmentSizeBytes, targetDir.owner, plan.wal.map((w) => w.segment)), targetDir.owner);
    // restore_command: a prefetched file costs PostgreSQL one `mv`; only a miss starts Node (lifeboat wal fetch).
    const commandLogFile = `${workDir}/${WORK_FILES.commandLog}`;
    const prefetchPidFile = `${workDir}/${WORK_FILES.prefetchPid}`;
    const scriptPath = `${workDir}/${WORK_FILES.restoreCommand}`;
    const script = formatRestoreCommandScript(
      {
        prefetchDir,
        logFile: commandLogFile,
        prefetchPidFile,
        lifeboatCommand: LIFEBOAT_COMMAND,
        fetchConfigPath,
        // PostgreSQL reads the segment where the archive ends twice: once to replay it, once more when it finds the
        // end (measured: a complete last segment too, not only a partial).
        keepSegment: plan.wal.at(-1)?.segment,
      },
      `restore_command of the lifeboat restore of backup ${plan.backup.backupId} into ${targetDir.path}`,
    );
    storeRestoreCommandScript(scriptPath, script, targetDir.owner);

    // 4. The base backup, parts in parallel; pg_control held back.
    const baseStarted = Date.now();
    log.info({ backupId: plan.backup.backupId, parts: plan.backup.parts.length, storedBytes: plan.baseStoredBytes }, 'fetching base backup');
    const flush = startBackgroundFlush(targetDir.path);
    try {
      await fetchBase({ storage, session, backup: plan.backup, targetDir: targetDir.path, owner: targetDir.owner, signal, onProgress: (done) => options.onProgress?.('base', done, plan.baseStoredBytes) });
    } finally {
      await flush.stop();
    }
    result.phases.fetchBaseMs = Date.now() - baseStarted;

    // 5. Arm recovery: safe settings, fsync, then pg_control and recovery.signal last.
    //    The planned timeline, not `latest`: the plan (and its WAL) follows one path, and a named point or a
    //    time on an older timeline would be missed on a newer one that branched off before it.
    writeRecoveryConfig(targetDir.path, targetDir.owner, { restoreCommand: restoreCommandFor(scriptPath), target: options.target, timeline: plan.timeline, action: options.action, backupId: plan.backup.backupId, port, socketDir: server.socketDir }, new Date());
    options.configureServer?.(targetDir.path, targetDir.owner);

    // 6. WAL: prefetched ahead of replay, within the window; without --start, only the first window (nothing
    //    replays yet to make room). restore_command waits for a file being downloaded while the pid file names
    //    a live prefetcher, instead of downloading it a second time.
    const walStarted = Date.now();
    const prefetchAbort = new AbortController();
    writeFileSync(prefetchPidFile, `${process.pid}\n`, { mode: 0o644 });
    const prefetch = prefetchWal({
      storage,
      session,
      cluster: options.cluster,
      wal: plan.wal,
      historyKeys: [...inputs.wal.histories.values()],
      prefetchDir,
      owner: targetDir.owner,
      windowBytes: options.config.restore.prefetchWindowMiB * 1024 * 1024,
      segmentSizeBytes,
      firstWindowOnly: !options.start,
      commandLogFile,
      checkpointSegment: walSegmentOf(toTimelineId(plan.backup.timeline), parseLsn(plan.backup.checkpointLsn), segmentSizeBytes),
      signal: AbortSignal.any([signal, prefetchAbort.signal]),
      onProgress: (done: number) => options.onProgress?.('wal', done, plan.walStoredBytes),
    })
      .then((prefetched) => {
        result.phases.fetchWalMs = Date.now() - walStarted;
        if (prefetched.stoppedAtWindow) log.info({ windowBytes: options.config.restore.prefetchWindowMiB * 1024 * 1024 }, 'prefetched the first window of WAL; restore_command fetches the rest as replay asks');
      });
    if (!options.start) {
      try {
        await prefetch;
      } finally {
        rmSync(prefetchPidFile, { force: true });
      }
      return result;
    }
    prefetch.catch((error: unknown) => {
      if (!prefetchAbort.signal.aborted) log.warn({ error: String(error) }, 'WAL prefetch failed; restore_command fetches what is missing itself');
    });
    // Recovery's last questions, answered ahead (see mark-absent-wal.ts): a Node start saved for each. Markers
    // count only while this process lives, hence only with --start.
    const markers = keepAbsentMarkers({
      storage,
      cluster: options.cluster,
      lastSegment: plan.wal.at(-1)?.segment,
      timeline: plan.timeline,
      segmentSizeBytes,
      prefetchDir,
      owner: targetDir.owner,
      signal: prefetchAbort.signal,
      onError: (error) => log.warn({ error: String(error) }, 'cannot list the repository for the names recovery asks last; restore_command asks it itself'),
    });

    // 7. Start and watch the server; the prefetch is pointless once recovery has stopped, either way.
    const cluster = options.config.clusters.find((c) => c.name === options.cluster);
    try {
      result.reached = await startRestoredServer({
        targetDir: targetDir.path,
        owner: targetDir.owner,
        port,
        socketDir: server.socketDir,
        workDir,
        action: options.target.kind === 'latest' ? 'promote' : options.action,
        timeline: plan.timeline,
        ...(cluster?.postgres.bindir ? { bindir: cluster.postgres.bindir } : {}),
        timeoutMs: options.start.timeoutMs,
        signal,
      });
    } finally {
      prefetchAbort.abort();
      await Promise.all([prefetch.catch(() => undefined), markers]);
      // From here on, restore_command trusts no marker and waits for no download.
      rmSync(prefetchPidFile, { force: true });
    }
    result.phases.replayMs = result.reached.replayMs;
    result.walServed = walServedFrom(workDir, plan);
    // Paused or shut down at the target, recovery resumes on the next start and still needs them.
    if (result.reached.state === 'promoted') removeFetchMaterial(workDir);

    // 8. Did replay get as far as the plan needs? A segment gone from the repository after the plan could have
    //    ended recovery early (older fetch configs, or a listing that missed it): never report that as success.
    //    A shutdown at the target is PostgreSQL's own word that it got there (and the LSN seen is a stale sample).
    const shortfall = result.reached.lsn === undefined || result.reached.state === 'shut down' ? undefined : checkReachedPlan(plan, parseLsn(result.reached.lsn), inputs.identity.walSegmentSizeBytes);
    if (shortfall) {
      if (result.reached.state === 'promoted') await stopRestoredServer({ targetDir: targetDir.path, owner: targetDir.owner, ...(cluster?.postgres.bindir ? { bindir: cluster.postgres.bindir } : {}) }).catch(() => undefined);
      throw await shortfallError(shortfall, result, storage, signal);
    }
    return result;
  } finally {
    session.close();
  }
}

