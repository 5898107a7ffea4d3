// `lifeboat restore`: the DBA's command. Prints the plan (all of it with --dry-run), shows progress while fetching,
// and reports what was reached. Every refusal exits non-zero with the reason and the fix, writing nothing.
import type { Command } from 'commander';
import { LifeboatError } from '../../errors/index.js';
import { formatLsn } from '../../postgres/index.js';
import { defaultCluster } from '../../repository/list-repository-clusters.js';
import { formatEstimate } from '../../restore/estimate-restore.js';
import { formatRecoveryTuningReset, readRecoveryTuning, type RecoveryTuningOutcome } from '../../restore/recovery-tuning.js';
import { formatRestoreTarget, parseRestoreTarget } from '../../restore/restore-target.js';
import { runRestore, type RestoreResult } from '../../restore/run-restore.js';
import type { CommandContext } from '../command-context.js';
import { withRepository } from '../with-repository.js';
import { createProgressReporter } from '../progress-reporter.js';

interface RestoreFlags {
  cluster?: string;
  targetDir: string;
  toTime?: string;
  toLsn?: string;
  toName?: string;
  immediate?: boolean;
  latest?: boolean;
  timeline?: string;
  inclusive?: boolean;
  exclusive?: boolean;
  targetAction?: string;
  start?: boolean;
  port?: string;
  dryRun?: boolean;
  force?: boolean;
  json?: boolean;
  startTimeout?: string;
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

/** The replay tuning: reset at promotion (`reached`), or still in postgresql.auto.conf for recovery to come. */
function recoveryTuningOf(result: RestoreResult): RecoveryTuningOutcome | undefined {
  if (result.reached?.recoveryTuning) return result.reached.recoveryTuning;
  const settings = result.dryRun ? {} : readRecoveryTuning(result.targetDir.path);
  return Object.keys(settings).length === 0 ? undefined : { settings, reset: false };
}

function formatRecoveryTuning(tuning: RecoveryTuningOutcome): string {
  const list = Object.entries(tuning.settings).map(([name, value]) => `${name}=${value}`).join(', ');
  if (tuning.reset) return `  tuning:     ${list} for the recovery only (faster replay); reset after promotion`;
  const reset = formatRecoveryTuningReset(tuning.settings);
  if (tuning.error !== undefined) return `  tuning:     ${list} for the recovery only, NOT reset after promotion (${tuning.error}); reset it now: ${reset}`;
  return `  tuning:     ${list} set in postgresql.auto.conf for the recovery only (faster replay); once promoted, reset it: ${reset}`;
}

export function summarizeRestore(result: RestoreResult): Record<string, unknown> {
  const { plan } = result;
  const target = plan.target;
  return {
    dryRun: result.dryRun,
    cluster: plan.cluster,
    backupId: plan.backup.backupId,
    target: target.kind === 'time' ? { kind: 'time', time: target.text, inclusive: target.inclusive } : target.kind === 'lsn' ? { kind: 'lsn', lsn: formatLsn(target.lsn), inclusive: target.inclusive } : target,
    timeline: plan.timeline,
    window: plan.window,
    wal: { segments: plan.wal.length, first: plan.wal[0]?.segment, last: plan.wal.at(-1)?.segment, lastIsPartial: plan.wal.at(-1)?.source === 'partial', storedBytes: plan.walStoredBytes },
    base: { parts: plan.backup.parts.length, storedBytes: plan.baseStoredBytes, tarBytes: plan.backup.tarSizeBytes },
    allObjectsPresent: plan.missing.length === 0,
    missing: plan.missing,
    disk: { neededBytes: result.neededBytes, prefetchBytes: result.prefetchBytes, freeBytes: result.targetDir.freeBytes, targetDir: result.targetDir.path, owner: result.targetDir.owner.name },
    estimatedSeconds: Math.round(result.estimate.seconds),
    estimatedRangeSeconds: [Math.floor(result.estimate.lowSeconds), Math.ceil(result.estimate.highSeconds)],
    workDir: result.workDir,
    server: result.server,
    phases: result.phases,
    ...(result.reached ? { reached: result.reached } : {}),
    ...(result.walServed ? { walServed: result.walServed } : {}),
    ...(recoveryTuningOf(result) ? { recoveryTuning: recoveryTuningOf(result) } : {}),
  };
}

function formatPlan(result: RestoreResult): string {
  const { plan, server } = result;
  const lines = [
    `${result.dryRun ? 'restore plan (dry run: nothing changed)' : 'restore'} for cluster ${plan.cluster}`,
    `  backup:     ${plan.backup.backupId} (${plan.backup.parts.length} part(s), ${mb(plan.baseStoredBytes)} stored, ${mb(plan.backup.tarSizeBytes)} restored)`,
    `  target:     ${formatRestoreTarget(plan.target)} on timeline ${plan.timeline}`,
    `  WAL:        ${plan.wal.length} segment(s) ${plan.wal[0]?.segment ?? ''}..${plan.wal.at(-1)?.segment ?? ''}${plan.wal.at(-1)?.source === 'partial' ? ' (last from a partial)' : ''}, ${mb(plan.walStoredBytes)} stored`,
    `  window:     ${plan.window.earliest.time ?? '?'} (${plan.window.earliest.lsn}) to ${plan.window.latest.time ?? '?'} (${plan.window.latest.lsn})`,
    `  objects:    ${plan.missing.length === 0 ? 'all present' : `MISSING ${plan.missing.join(', ')}`}`,
    `  disk:       needs ${mb(result.neededBytes)} at ${result.targetDir.path} (WAL prefetched ahead of replay: at most ${mb(result.prefetchBytes)}), ${mb(result.targetDir.freeBytes)} free; files owned by ${result.targetDir.owner.name}`,
    `  estimate:   ${formatEstimate(result.estimate)} until promoted (fetch and replay, at measured rates)`,
    `  server:     port ${server.port}, socket in ${server.socketDir}, log ${server.logFile}`,
  ];
  if (!result.dryRun) {
    const p = result.phases;
    lines.push(`  took:       fetch base ${((p.fetchBaseMs ?? 0) / 1000).toFixed(1)} s, fetch WAL ${((p.fetchWalMs ?? 0) / 1000).toFixed(1)} s${p.replayMs !== undefined ? `, start + replay ${(p.replayMs / 1000).toFixed(1)} s` : ''}`);
  }
  if (result.walServed) {
    const { fromPrefetch, waitedForPrefetch, plannedMisses, answeredAbsent, otherRequests } = result.walServed;
    const misses = plannedMisses.length === 0 ? 'none' : `${plannedMisses.length} (${plannedMisses.slice(0, 3).join(', ')}${plannedMisses.length > 3 ? ', ...' : ''})`;
    const waited = waitedForPrefetch.files === 0 ? '' : ` (${waitedForPrefetch.files} after replay waited ~${waitedForPrefetch.ms} ms for their download)`;
    lines.push(`  served:     ${fromPrefetch} WAL file(s) from the prefetch folder${waited}; planned segments fetched on a miss: ${misses}; answered absent without a fetch: ${answeredAbsent}; other requests (wal fetch): ${otherRequests}`);
  }
  const tuning = recoveryTuningOf(result);
  if (tuning) lines.push(formatRecoveryTuning(tuning));
  if (result.reached) {
    lines.push(`  reached:    ${result.reached.state} at LSN ${result.reached.lsn ?? '?'}, last commit ${result.reached.lastCommitTime ?? '(none replayed)'}`);
    if (result.reached.state === 'promoted') {
      lines.push(
        `  next:       this server is a new primary on a new timeline. To protect it, point the cluster's postgres settings at it,`,
        `              run \`lifeboat wal archive\` and take \`lifeboat backup full\`: the chain continues under the same cluster name.`,
      );
    } else {
      lines.push(
        `  next:       recovery continues when you resume it (pg_wal_replay_resume()) or start the server again, fetching WAL with`,
        `              restore-command.sh and the fetch config in ${result.workDir}; once promoted, delete wal-fetch.json,`,
        `              lifeboat.key, restore-command.sh and prefetch/ there (a copy of the key or credentials). The folder also holds`,
        `              the socket and the server log: keep it.`,
      );
    }
  } else if (!result.dryRun) {
    lines.push(
      `  next:       start it with pg_ctl -D ${result.targetDir.path} -l ${server.logFile} start (as ${result.targetDir.owner.name}); it listens on port ${server.port}`,
      `              (socket in ${server.socketDir}); recovery takes the WAL prefetched so far, then fetches the rest with lifeboat wal fetch,`,
      `              via restore-command.sh and the fetch config in ${result.workDir}: once promoted, delete wal-fetch.json,`,
      `              lifeboat.key, restore-command.sh and prefetch/ there (the config holds a copy of the key or credentials).`,
    );
  }
  return lines.join('\n');
}

export function registerRestore(program: Command, context: () => CommandContext): void {
  program
    .command('restore')
    .description('restore a cluster to a point in time into a new data directory (repository and key only)')
    .option('--cluster <name>', 'cluster (default: the only one configured; may be one the config does not name)')
    .requiredOption('--target-dir <dir>', 'new or empty folder for the restored data directory')
    .option('--to-time <timestamp>', 'recover to this time (must include a zone, e.g. 2026-11-29T14:02:59Z)')
    .option('--to-lsn <lsn>', 'recover to this LSN')
    .option('--to-name <name>', 'recover to a restore point made with `lifeboat restore-point`')
    .option('--immediate', 'stop as soon as the backup is consistent')
    .option('--latest', 'replay all archived WAL, partial segments included')
    .option('--timeline <n|latest>', 'timeline to recover along (default latest)')
    .option('--inclusive', 'include the transaction at the target (default)')
    .option('--exclusive', 'stop just before the target')
    .option('--target-action <action>', 'promote (default), pause or shutdown when the target is reached')
    .option('--start', 'start PostgreSQL and wait until recovery reaches the target')
    .option('--port <n>', 'port the restored server listens on (written to its configuration)', '5433')
    .option('--start-timeout <seconds>', 'how long --start waits for recovery', '14400')
    .option('--dry-run', 'print the plan and change nothing')
    .option('--force', 'delete the target folder\'s contents first')
    .option('--json', 'print the plan/result as JSON')
    .action(async (flags: RestoreFlags) => {
      const ctx = context();
      const config = ctx.config();
      const { target, action } = parseRestoreTarget(flags);
      const timeline = flags.timeline === undefined || flags.timeline === 'latest' ? 'latest' : Number(flags.timeline);
      if (timeline !== 'latest' && (!Number.isInteger(timeline) || timeline < 1)) throw new LifeboatError('usage', `--timeline "${flags.timeline}" is not a timeline`, { hint: 'use a positive integer or latest' });
      const port = Number(flags.port);
      const progress = createProgressReporter({ label: 'restore', stream: process.stderr, log: ctx.log });
      await withRepository(ctx, 'read', async (repository) => {
        try {
          // Repository and key are all a restore needs: the cluster may be one the config does not name.
          const cluster = flags.cluster ?? (await defaultCluster(config.clusters.map((c) => c.name), repository.storage, ctx.signal));
          const result = await runRestore({
            config,
            cluster,
            storage: repository.storage,
            keys: repository.keys,
            log: ctx.log,
            signal: ctx.signal,
            targetDir: flags.targetDir,
            target,
            action,
            timeline,
            force: flags.force ?? false,
            dryRun: flags.dryRun ?? false,
            port,
            ...(flags.start ? { start: { timeoutMs: Number(flags.startTimeout) * 1000 } } : {}),
            onProgress: progress.update,
          });
          progress.done();
          ctx.out(flags.json ? JSON.stringify(summarizeRestore(result), null, 2) : formatPlan(result));
        } catch (error) {
          progress.done();
          const planned = (error as { restorePlan?: RestoreResult }).restorePlan;
          if (planned) ctx.out(flags.json ? JSON.stringify(summarizeRestore(planned), null, 2) : formatPlan(planned));
          throw error;
        }
      });
    });
}
