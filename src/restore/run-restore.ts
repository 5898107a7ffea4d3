// `lifeboat restore`: point-in-time restore of a cluster into a new data directory, from the repository and the
// key alone. Plan first (shared with --dry-run), refuse what cannot be right before writing anything, then fetch
// the base backup and WAL in parallel, arm recovery last, and optionally start and watch the server.
import { chownSync, copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { RuntimeConfig } from '../config/index.js';
import { createDecryptionSession, type KeyProvider } from '../crypto/index.js';
import { LifeboatError } from '../errors/index.js';
import { storageConfigFrom, type Storage } from '../storage/index.js';
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

/** The restore_command PostgreSQL runs: this very lifeboat, with the restore's own fetch config. */
function restoreCommand(fetchConfigPath: string): string {
  const bin = fileURLToPath(new URL('../../bin/lifeboat.js', import.meta.url));
  const shellQuote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;
  return `${shellQuote(process.execPath)} ${shellQuote(bin)} wal fetch --restore-config ${shellQuote(fetchConfigPath)} %f %p`;
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
    // 2. Refuse, before writing anything: missing WAL, a busy or non-empty target, too little space.
    const refusal = (): void => {
      if (plan.missing.length > 0) {
        throw new LifeboatError('objectNotFound', `WAL segment${plan.missing.length > 1 ? 's' : ''} ${plan.missing.slice(0, 5).join(', ')}${plan.missing.length > 5 ? ` (and ${plan.missing.length - 5} more)` : ''} needed for this restore ${plan.missing.length > 1 ? 'are' : 'is'} not in the repository`, {
          hint: 'choose an earlier target (before the gap), or restore from the other region if it has them; `lifeboat verify` lists every gap',
        });
      }
      checkTargetDir(targetDir, { force: options.force, neededBytes });
    };
    if (options.dryRun) {
      try {
        refusal();
      } catch (error) {
        // The plan is still worth printing; the caller reports the refusal after it.
        (error as { restorePlan?: RestoreResult }).restorePlan = result;
        throw error;
      }
      return result;
    }
    refusal();

    // 3. Target and work folders, owned by the PostgreSQL OS user.
    prepareTargetDir(targetDir, options.force);
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
    writeRecoveryConfig(targetDir.path, targetDir.owner, { restoreCommand: restoreCommand(fetchConfigPath), target: options.target, timeline: options.timeline, action: options.action, backupId: plan.backup.backupId }, new Date());

    // 6. WAL: prefetched in parallel, overlapping replay when the server is started.
    const walStarted = Date.now();
    const prefetch = prefetchWal({
      storage,
      session,
      cluster: options.cluster,
      wal: plan.wal,
      historyKeys: [...inputs.wal.histories.values()],
      prefetchDir,
      owner: targetDir.owner,
      signal,
      onProgress: (done: number) => options.onProgress?.('wal', done, plan.walStoredBytes),
    }).then(() => {
      result.phases.fetchWalMs = Date.now() - walStarted;
    });
    if (!options.start) {
      await prefetch;
      return result;
    }
    prefetch.catch((error: unknown) => log.warn({ error: String(error) }, 'WAL prefetch failed; restore_command fetches what is missing itself'));
    result.reached = await startRestoredServer({
      targetDir: targetDir.path,
      owner: targetDir.owner,
      port: options.start.port,
      workDir,
      action: options.target.kind === 'latest' ? 'promote' : options.action,
      ...(options.config.clusters.find((c) => c.name === options.cluster)?.postgres.bindir ? { bindir: options.config.clusters.find((c) => c.name === options.cluster)!.postgres.bindir! } : {}),
      timeoutMs: options.start.timeoutMs,
      signal,
    });
    result.phases.replayMs = result.reached.replayMs;
    await prefetch.catch(() => undefined);
    return result;
  } finally {
    session.close();
  }
}

