// `lifeboat drill history [--cluster NAME] [--limit N] [--json]`: the restore drills stored in the repository,
// newest first, with their RPO, RTO and outcome. Read from the repository alone, like `backups list`, so any host
// with the bucket and the key can show whether (and how well) the backups were last proven to restore.
import type { Command } from 'commander';
import { createDecryptionSession } from '../../crypto/index.js';
import { compareDrillIdsNewestFirst } from '../../drills/drill-id.js';
import type { DrillResult } from '../../drills/drill-result.js';
import { listDrillResults, type UnreadableDrillResult } from '../../drills/history/load-drill-results.js';
import { formatDuration } from '../../drills/report/format-seconds.js';
import { LifeboatError } from '../../errors/index.js';
import { listRepositoryClusters } from '../../repository/list-repository-clusters.js';
import type { CommandContext } from '../command-context.js';
import { withRepository } from '../with-repository.js';

/** What `--json` prints. */
export interface DrillHistoryOutput {
  /** Every cluster's drills, newest first (by start time). */
  drills: DrillResult[];
  /** Stored results that could not be read, with the error that says why. */
  unreadable: UnreadableDrillResult[];
  /** Older stored drills not read because of --limit (summed over the clusters). */
  olderNotRead: number;
}

const DEFAULT_LIMIT = 20;

function parseLimit(text: string): number {
  const limit = Number(text);
  if (!Number.isInteger(limit) || limit < 1) {
    throw new LifeboatError('usage', `--limit must be a positive integer, not "${text}"`, { hint: `the default is ${DEFAULT_LIMIT} drills per cluster` });
  }
  return limit;
}

function outcomeCell(result: DrillResult): string {
  return result.error ? `${result.outcome} (${result.error.code})` : result.outcome;
}

function rpoCell(result: DrillResult): string {
  if (result.rpo.seconds !== undefined) return formatDuration(result.rpo.seconds);
  return result.rpo.method === 'unmeasured' ? 'unmeasured' : '-';
}

/** The history as a table: when (the simulated disaster D), cluster, scenario, outcome, RPO, RTO, backup. */
export function formatDrillHistory(output: DrillHistoryOutput): string {
  const header = ['WHEN (DISASTER TIME)', 'CLUSTER', 'SCENARIO', 'OUTCOME', 'RPO', 'RTO', 'BACKUP'];
  const rows = output.drills.map((result) => [
    result.disasterTime,
    result.cluster,
    result.scenario.name,
    outcomeCell(result),
    rpoCell(result),
    result.rto.seconds === undefined ? '-' : formatDuration(result.rto.seconds),
    result.backup?.backupId ?? '-',
  ]);
  const lines: string[] = [];
  if (rows.length === 0) lines.push('no drill results stored yet');
  else {
    const widths = header.map((title, column) => Math.max(title.length, ...rows.map((cells) => cells[column]!.length)));
    for (const cells of [header, ...rows]) lines.push(cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd());
  }
  if (output.olderNotRead > 0) lines.push(`(${output.olderNotRead} older drill result(s) not shown; raise --limit to see them)`);
  for (const item of output.unreadable) lines.push(`unreadable: error[${item.code}]: ${item.message}${item.hint ? `\n  HINT: ${item.hint}` : ''}`);
  return lines.join('\n');
}

export function registerDrillHistory(parent: Command, context: () => CommandContext): void {
  parent
    .command('history')
    .description('past restore drills stored in the repository, newest first: RPO, RTO and outcome')
    .option('--cluster <name>', 'only this cluster (default: the configured clusters, else every cluster in the repository)')
    .option('--limit <n>', `at most this many drills per cluster, the newest (default ${DEFAULT_LIMIT})`)
    .option('--json', 'print JSON: { drills: [drill result, newest first], unreadable: [ { key, drillId?, code, message, hint? } ], olderNotRead }')
    .action(async (options: { cluster?: string; limit?: string; json?: boolean }) => {
      const ctx = context();
      const config = ctx.config();
      const limit = options.limit === undefined ? DEFAULT_LIMIT : parseLimit(options.limit);
      const output = await withRepository(ctx, 'read', async (repository): Promise<DrillHistoryOutput> => {
        const session = createDecryptionSession(repository.keys, { signal: ctx.signal });
        try {
          // A restore-only config names no cluster: show every one the repository holds (as `verify` does).
          const names = options.cluster
            ? [options.cluster]
            : config.clusters.length > 0
              ? config.clusters.map((c) => c.name)
              : await listRepositoryClusters(repository.storage, ctx.signal);
          const merged: DrillHistoryOutput = { drills: [], unreadable: [], olderNotRead: 0 };
          for (const name of names) {
            const history = await listDrillResults(repository.storage, session, name, { limit, signal: ctx.signal });
            merged.drills.push(...history.results);
            merged.unreadable.push(...history.unreadable);
            merged.olderNotRead += history.olderNotRead;
          }
          merged.drills.sort((a, b) => compareDrillIdsNewestFirst(a.drillId, b.drillId));
          return merged;
        } finally {
          session.close();
        }
      });
      // Unreadable results are reported in the output, not as a failure: the rest of the history is still true.
      if (output.unreadable.length > 0) ctx.log.warn({ unreadable: output.unreadable.map((item) => item.key) }, 'some stored drill results could not be read');
      ctx.out(options.json ? JSON.stringify(output, null, 2) : formatDrillHistory(output));
    });
}
