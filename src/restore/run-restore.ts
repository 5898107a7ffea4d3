// `lifeboat restore`: point-in-time restore of a cluster into a new data directory, from the repository and the
// key alone. Plan first (shared with --dry-run), refuse what cannot be right before writing anything, then fetch
// the base backup and WAL in parallel, arm recovery last, and optionally start and watch the server.
import { chownSync, copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { RuntimeConfig } from '../config/index.js';
import { createDecryptionSession, type KeyProvider } from '../crypto/index.js';
import { LifeboatError } from '../errors/index.js';
import { storageConfigFrom, type Storage } from '../storage/index.js';
import { checkOwnerAccess } from './check-owner-access.js';
import { checkPortFree } from './check-port-free.js';
import { fetchBase } from './fetch-base.js';
import { loadRestoreInputs } from './load-restore-inputs.js';
import { planRestore, type RestorePlan } from './plan-restore.js';
import { storeRestoreFetchConfig, type RestoreFetchConfig } from './restore-fetch-config.js';
import type { RestoreTarget, TargetAction } from './restore-target.js';
import { startRestoredServer, type ReachedPoint } from './start-restored-server.js';
import { checkTargetDir, inspectTargetDir, prepareTargetDir, type TargetDirState } from './target-dir.js';
import { prefetchWal } from './wal-fetch/prefetch-wal.js';
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
  start?: { port: number; timeoutMs: number };
  onProgress?: (phase: 'base' | 'wal', doneBytes: number, totalBytes: number) => void;
}

export interface RestoreResult {
  plan: RestorePlan;
  targetDir: TargetDirState;
  /** Bytes the target's file system must hold: the data directory plus the prefetched WAL. */
  neededBytes: number;
  /** Seconds, from the throughput assumed in `estimateSeconds`. */
  estimatedSeconds: number;
  dryRun: boolean;
  workDir: string;
  phases: { planMs: number; fetchBaseMs?: number; fetchWalMs?: number; replayMs?: number };
  reached?: ReachedPoint;
}

/** Throughput assumed for the estimate: measured by `npm run bench` on the reference 2-core machine (README). */
const ASSUMED_FETCH_BYTES_PER_SECOND = 150e6;
const ASSUMED_REPLAY_BYTES_PER_SECOND = 60e6;

function estimateSeconds(plan: RestorePlan, segmentSizeBytes: number): number {
  return (plan.baseStoredBytes + plan.walStoredBytes) / ASSUMED_FETCH_BYTES_PER_SECOND + (plan.wal.length * segmentSizeBytes) / ASSUMED_REPLAY_BYTES_PER_SECOND;
}

/** This very lifeboat, as restore_command runs it: node and the CLI entry point. */
const LIFEBOAT_COMMAND = [process.execPath, fileURLToPath(new URL('../../bin/lifeboat.js', import.meta.url))] as const;

/** The restore_command PostgreSQL runs: this very lifeboat, with the restore's own fetch config. */
function restoreCommand(fetchConfigPath: string): string {
  const shellQuote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;
  return `${LIFEBOAT_COMMAND.map(shellQuote).join(' ')} wal fetch --restore-config ${shellQuote(fetchConfigPath)} %f %p`;
}

/** Once recovery is over, the fetch config (credentials) and the key copy must not outlive it. */
function removeFetchMaterial(workDir: string): void {
  for (const name of ['wal-fetch.json', 'lifeboat.key', 'prefetch']) rmSync(`${workDir}/${name}`, { recursive: true, force: true });
}

function fetchConfigFor(options: RunRestoreOptions, workDir: string, prefetchDir: string, segmentSizeBytes: number, owner: TargetDirState['owner']): RestoreFetchConfig {
  const { config } = options;
  let encryption: RestoreFetchConfig['encryption'];
  if (config.encryption.provider === 'local') {
    // The PostgreSQL OS user reads its own 0600 copy; the original key file may not be readable to it.
    const keyCopy = `${workDir}/lifeboat.key`;
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
  return { formatVersion: 1, cluster: options.cluster, repository, encryption, prefetchDir, segmentSizeBytes };
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
    const neededBytes = plan.restoredBytes + plan.wal.length * inputs.identity.walSegmentSizeBytes;
    const result: RestoreResult = {
      plan,
      targetDir,
      neededBytes,
      estimatedSeconds: estimateSeconds(plan, inputs.identity.walSegmentSizeBytes),
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
      if (options.start) await checkPortFree(options.start.port);
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
    const prefetchDir = `${workDir}/prefetch`;
    mkdirSync(prefetchDir, { recursive: true, mode: 0o700 });
    chownSync(workDir, targetDir.owner.uid, targetDir.owner.gid);
    chownSync(prefetchDir, targetDir.owner.uid, targetDir.owner.gid);
    const fetchConfigPath = `${workDir}/wal-fetch.json`;
    storeRestoreFetchConfig(fetchConfigPath, fetchConfigFor(options, workDir, prefetchDir, inputs.identity.walSegmentSizeBytes, targetDir.owner), targetDir.owner);

    // 4. The base backup, parts in parallel; pg_control held back.
    const baseStarted = Date.now();
    log.info({ backupId: plan.backup.backupId, parts: plan.backup.parts.length, storedBytes: plan.baseStoredBytes }, 'fetching base backup');
    await fetchBase({ storage, session, backup: plan.backup, targetDir: targetDir.path, owner: targetDir.owner, signal, onProgress: (done) => options.onProgress?.('base', done, plan.baseStoredBytes) });
    result.phases.fetchBaseMs = Date.now() - baseStarted;

    // 5. Arm recovery: safe settings, fsync, then pg_control and recovery.signal last.
    //    The planned timeline, not `latest`: the plan (and its WAL) follows one path, and a named point or a
    //    time on an older timeline would be missed on a newer one that branched off before it.
    writeRecoveryConfig(targetDir.path, targetDir.owner, { restoreCommand: restoreCommand(fetchConfigPath), target: options.target, timeline: plan.timeline, action: options.action, backupId: plan.backup.backupId }, new Date());

    // 6. WAL: prefetched in parallel, overlapping replay when the server is started.
    const walStarted = Date.now();
    const prefetchAbort = new AbortController();
    const prefetch = prefetchWal({
      storage,
      session,
      cluster: options.cluster,
      wal: plan.wal,
      historyKeys: [...inputs.wal.histories.values()],
      prefetchDir,
      owner: targetDir.owner,
      signal: AbortSignal.any([signal, prefetchAbort.signal]),
      onProgress: (done: number) => options.onProgress?.('wal', done, plan.walStoredBytes),
    }).then(() => {
      result.phases.fetchWalMs = Date.now() - walStarted;
    });
    if (!options.start) {
      await prefetch;
      return result;
    }
    prefetch.catch((error: unknown) => {
      if (!prefetchAbort.signal.aborted) log.warn({ error: String(error) }, 'WAL prefetch failed; restore_command fetches what is missing itself');
    });

    // 7. Start and watch the server; the prefetch is pointless once recovery has stopped, either way.
    const cluster = options.config.clusters.find((c) => c.name === options.cluster);
    try {
      result.reached = await startRestoredServer({
        targetDir: targetDir.path,
        owner: targetDir.owner,
        port: options.start.port,
        workDir,
        action: options.target.kind === 'latest' ? 'promote' : options.action,
        ...(cluster?.postgres.bindir ? { bindir: cluster.postgres.bindir } : {}),
        timeoutMs: options.start.timeoutMs,
        signal,
      });
    } finally {
      prefetchAbort.abort();
      await prefetch.catch(() => undefined);
    }
    result.phases.replayMs = result.reached.replayMs;
    // Paused or shut down at the target, recovery resumes on the next start and still needs them.
    if (result.reached.state === 'promoted') removeFetchMaterial(workDir);
    return result;
  } finally {
    session.close();
  }
}

