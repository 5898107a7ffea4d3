// `lifeboat drill run`: a restore drill from the command line (CI runs this). Prints the outcome, RPO and RTO by
// phase and each check; writes the JUnit, JSON and Markdown reports asked for; exits 0 when every target and
// check passed, 1 when one failed, and the error's own code when the drill could not run at all.
import type { Command } from 'commander';
import { selectCluster } from '../../config/index.js';
import type { DrillResult } from '../../drills/drill-result.js';
import { LATEST_SCENARIO, loadDrillScenario } from '../../drills/drill-scenario.js';
import { storeDrillResult } from '../../drills/history/store-drill-result.js';
import { writeDrillReports } from '../../drills/report/write-drill-reports.js';
import { drillFailedError, runDrill } from '../../drills/run-drill.js';
import type { CommandContext } from '../command-context.js';
import { LIFEBOAT_VERSION } from '../version.js';
import { withRepository } from '../with-repository.js';

interface DrillRunFlags {
  cluster?: string;
  scenario?: string;
  junit?: string;
  json?: string;
  markdown?: string;
  keep?: boolean;
}

const seconds = (value: number | undefined): string => (value === undefined ? 'unmeasured' : `${value.toFixed(1)} s`);

export function formatDrillSummary(result: DrillResult): string {
  const lines = [`drill ${result.drillId} (${result.scenario.name}) on cluster ${result.cluster}: ${result.outcome.toUpperCase()}`, `  disaster at ${result.disasterTime}; restore target ${result.restoreTarget.kind}${result.restoreTarget.value ? ` ${result.restoreTarget.value}` : ''}`];
  if (result.backup) lines.push(`  backup ${result.backup.backupId}, ${result.wal?.segments ?? 0} WAL segment(s)`);
  for (const target of result.targets) lines.push(`  ${target.outcome === 'passed' ? 'ok  ' : target.outcome === 'failed' ? 'FAIL' : 'skip'} ${target.message}`);
  const phases = Object.entries(result.rto.phases).map(([phase, value]) => `${phase} ${value.toFixed(1)} s`);
  if (phases.length > 0) lines.push(`       RTO by phase: ${phases.join(', ')} = ${seconds(result.rto.seconds)}`);
  for (const check of result.checks) lines.push(`  ${check.outcome === 'passed' ? 'ok  ' : check.outcome === 'failed' ? 'FAIL' : 'skip'} ${check.name}: ${check.message} (${(check.durationMs / 1000).toFixed(1)} s)`);
  if (result.error) lines.push(`  error[${result.error.code}]: ${result.error.message}`);
  return lines.join('\n');
}

export function registerDrillRun(parent: Command, context: () => CommandContext): void {
  parent
    .command('run')
    .description('simulate a disaster now, restore into a scratch server, measure RPO and RTO and check the data')
    .option('--cluster <name>', 'cluster (default: the only configured one)')
    .option('--scenario <file>', 'scenario YAML (default: restore the latest point, as drills/latest.yaml)')
    .option('--junit <file>', 'write a JUnit XML report (one test case per target and check)')
    .option('--json <file>', 'write the full result as JSON')
    .option('--markdown <file>', 'write a Markdown report')
    .option('--keep', 'leave the scratch server running for inspection (its folders are printed)')
    .action(async (flags: DrillRunFlags) => {
      const ctx = context();
      const config = ctx.config();
      const cluster = selectCluster(config, flags.cluster);
      const scenario = flags.scenario ? loadDrillScenario(flags.scenario) : LATEST_SCENARIO;
      const files = { junit: flags.junit, json: flags.json, markdown: flags.markdown };
      let result: DrillResult;
      try {
        result = await withRepository(ctx, 'read', (repository) =>
          runDrill({
            config,
            cluster,
            scenario,
            storage: repository.storage,
            keys: repository.keys,
            log: ctx.log,
            signal: ctx.signal,
            lifeboatVersion: LIFEBOAT_VERSION,
            keep: flags.keep === true,
            storeResult: async (drill) => void (await storeDrillResult({ storage: repository.storage, keys: repository.keys, result: drill, signal: ctx.signal })),
          }),
        );
      } catch (error) {
        // A drill that could not run still reports, so CI shows why (the JUnit holds one errored case).
        const drill = (error as { drillResult?: DrillResult }).drillResult;
        if (drill) {
          ctx.out(formatDrillSummary(drill));
          await writeDrillReports(drill, files, ctx.signal).catch(() => undefined);
        }
        throw error;
      }
      ctx.out(formatDrillSummary(result));
      await writeDrillReports(result, files, ctx.signal);
      if (flags.keep && result.scratch) ctx.out(`  scratch server kept: data ${result.scratch.dataDir}, socket folder ${result.scratch.socketDir}, port ${result.scratch.port}`);
      if (result.outcome === 'failed') throw drillFailedError(result);
    });
}
