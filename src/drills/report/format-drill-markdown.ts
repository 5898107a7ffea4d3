// The drill as a Markdown report for people: the outcome first, then RPO and RTO against their targets, where
// the RTO went (phases adding up to the total), each check, what was restored (backup, WAL) with which versions,
// and the error with its hint when the drill could not run.
import { RTO_PHASES, type DrillCheckResult, type DrillOutcome, type DrillResult, type DrillTargetResult, type RtoPhase } from '../drill-result.js';
import { formatDuration } from './format-seconds.js';
import { markdownCode, markdownCodeBlock, markdownText } from './markdown-text.js';

const PHASE_LABELS: Readonly<Record<RtoPhase, string>> = {
  plan: 'plan (choose backup and WAL)',
  fetchBase: 'fetch base backup',
  replay: 'WAL replay',
  promote: 'promote and first query',
};

const OUTCOME_WORDS: Readonly<Record<DrillOutcome, string>> = {
  passed: 'PASSED',
  failed: 'FAILED',
  skipped: 'SKIPPED',
  'not-applicable': 'NOT APPLICABLE',
};

/** A phase sum further than this from the total (rounding aside) gets its own "unaccounted" row. */
const UNACCOUNTED_TOLERANCE_SECONDS = 0.001;

function row(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [row(header), row(header.map(() => '---')), ...rows.map(row)];
}

/** `2 passed, 1 skipped`: how many of `items` ended each way, in order of first appearance. */
function countOutcomes(items: readonly { outcome: DrillOutcome }[]): string {
  const counts = new Map<DrillOutcome, number>();
  for (const item of items) counts.set(item.outcome, (counts.get(item.outcome) ?? 0) + 1);
  return counts.size === 0 ? 'none' : [...counts].map(([outcome, count]) => `${count} ${outcome}`).join(', ');
}

/** What decided the outcome, in one line: the error, or what failed, then the counts. */
function outcomeSummary(result: DrillResult): string {
  const counts = `targets: ${countOutcomes(result.targets)}; checks: ${countOutcomes(result.checks)}`;
  if (result.error) return `the drill could not run: ${markdownText(result.error.message)} (${markdownCode(result.error.code)}); ${counts}`;
  const failed = [...result.targets, ...result.checks].filter((item) => item.outcome === 'failed').map((item) => markdownCode(item.name));
  return failed.length > 0 ? `failed ${failed.join(', ')}; ${counts}` : counts;
}

function targetRow(label: string, target: DrillTargetResult | undefined, measured: string): string[] {
  return [label, measured, target ? formatDuration(target.targetSeconds) : '-', target ? target.outcome : '-', target ? markdownText(target.message) : '-'];
}

function rpoMeasured(result: DrillResult): string {
  const { rpo } = result;
  if (rpo.seconds === undefined) return rpo.method === 'unmeasured' ? 'unmeasured' : 'not measured';
  const lost = rpo.heartbeatsLost === undefined ? '' : `, ${rpo.heartbeatsLost} heartbeat${rpo.heartbeatsLost === 1 ? '' : 's'} lost`;
  return `${formatDuration(rpo.seconds)}${lost}`;
}

function targetsSection(result: DrillResult): string[] {
  const find = (name: 'rpo' | 'rto'): DrillTargetResult | undefined => result.targets.find((target) => target.name === name);
  const rto = result.rto.seconds === undefined ? 'not measured' : formatDuration(result.rto.seconds);
  const lines = [
    '## RPO and RTO',
    '',
    ...table(['', 'measured', 'target', 'outcome', 'message'], [targetRow('RPO (data lost)', find('rpo'), rpoMeasured(result)), targetRow('RTO (until the restored server answers)', find('rto'), rto)]),
    '',
  ];
  const method = {
    heartbeat: 'from the newest heartbeat row in the restored database',
    'commit-timestamp': 'from the newest commit timestamp in the restored database (no heartbeat table)',
    unmeasured: 'not measurable: no heartbeat table and `track_commit_timestamp` is off',
  }[result.rpo.method];
  lines.push(`RPO measured ${method}${result.rpo.newestRestored ? `; newest restored: ${markdownText(result.rpo.newestRestored)}` : ''}.`, '');
  return lines;
}

function phasesSection(result: DrillResult): string[] {
  const rows: string[][] = [];
  const total = result.rto.seconds;
  let sum = 0;
  for (const phase of RTO_PHASES) {
    const seconds = result.rto.phases[phase];
    if (seconds === undefined) continue;
    sum += seconds;
    rows.push([PHASE_LABELS[phase], formatDuration(seconds), total ? `${Math.round((seconds / total) * 100)} %` : '-']);
  }
  if (rows.length === 0 && total === undefined) return [];
  // The phases should add up to the total; if they do not, the report shows the difference rather than hide it.
  if (total !== undefined && Math.abs(total - sum) > UNACCOUNTED_TOLERANCE_SECONDS) {
    const rest = total - sum;
    rows.push(['unaccounted', `${rest < 0 ? '-' : ''}${formatDuration(Math.abs(rest))}`, `${Math.round((rest / total) * 100)} %`]);
  }
  if (total !== undefined) rows.push(['**total**', `**${formatDuration(total)}**`, '100 %']);
  return ['## RTO by phase', '', ...table(['phase', 'duration', 'share'], rows), ''];
}

function checkRow(check: DrillCheckResult): string[] {
  return [markdownCode(check.name, true), check.outcome, formatDuration(check.durationMs / 1000), markdownText(check.message)];
}

function checksSection(result: DrillResult): string[] {
  if (result.checks.length === 0) return [];
  const lines = [`## Checks (${countOutcomes(result.checks)})`, '', ...table(['check', 'outcome', 'time', 'result'], result.checks.map(checkRow)), ''];
  for (const check of result.checks) {
    if (check.details === undefined) continue;
    lines.push(`### ${markdownCode(check.name)}: ${check.outcome}`, '', markdownCodeBlock(check.details), '');
  }
  return lines;
}

function formatSizeBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e3).toFixed(1)} kB`;
}

function restoredSection(result: DrillResult): string[] {
  const lines = ['## What was restored', ''];
  const target = result.restoreTarget.value === undefined ? result.restoreTarget.kind : `${result.restoreTarget.kind} ${result.restoreTarget.value}`;
  lines.push(`- source: ${markdownText(result.source)} repository; restore target: ${markdownCode(target)}`);
  if (result.backup) {
    const { backupId, kind, stopTime } = result.backup;
    lines.push(`- backup: ${markdownCode(backupId)} (${markdownText(kind)}${stopTime ? `, completed ${markdownText(stopTime)}` : ''})`);
  } else {
    lines.push('- backup: none (the drill stopped before choosing one)');
  }
  if (result.wal) {
    const { segments, firstSegment, lastSegment, storedBytes } = result.wal;
    const range = firstSegment && lastSegment ? ` from ${markdownCode(firstSegment)} to ${markdownCode(lastSegment)}` : '';
    lines.push(`- WAL: ${segments} segment${segments === 1 ? '' : 's'}${range}, ${formatSizeBytes(storedBytes)} stored`);
  }
  const { lifeboat, postgresSource, postgresScratch } = result.versions;
  const postgres = [postgresSource ? `${markdownText(postgresSource)} (source)` : undefined, postgresScratch ? `${markdownText(postgresScratch)} (scratch server)` : undefined].filter(Boolean);
  lines.push(`- versions: Lifeboat ${markdownText(lifeboat)}${postgres.length > 0 ? `, PostgreSQL ${postgres.join(', ')}` : ''}`);
  const scenario = result.scenario;
  lines.push(`- scenario: ${markdownCode(scenario.name)}${scenario.file ? ` (${markdownCode(scenario.file)})` : ''}${scenario.description ? `: ${markdownText(scenario.description)}` : ''}`);
  lines.push('');
  return lines;
}

function errorSection(result: DrillResult): string[] {
  if (!result.error) return [];
  const { code, exitCode, message, hint } = result.error;
  return ['## Error', '', `${markdownCode(`error[${code}]`)} (exit ${exitCode}): ${markdownText(message)}`, '', ...(hint ? [`**Hint:** ${markdownText(hint)}`, ''] : [])];
}

/** The Markdown report of one drill. */
export function formatDrillMarkdown(result: DrillResult): string {
  const lines = [
    `# Restore drill ${OUTCOME_WORDS[result.outcome]}: ${markdownText(result.cluster)}, ${markdownText(result.scenario.name)}`,
    '',
    `**${OUTCOME_WORDS[result.outcome]}**: ${outcomeSummary(result)}.`,
    '',
    `Disaster simulated at ${markdownText(result.disasterTime)} (the primary's clock); drill ${markdownCode(result.drillId)} ran on ${markdownText(result.host)} ` +
      `from ${markdownText(result.startedTime)} to ${markdownText(result.finishedTime)}.`,
    '',
    ...errorSection(result),
    ...targetsSection(result),
    ...phasesSection(result),
    ...checksSection(result),
    ...restoredSection(result),
  ];
  return `${lines.join('\n').replace(/\n+$/, '')}\n`;
}
