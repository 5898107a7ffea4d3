// Prints one case's report to stdout: title, setup lines, tables and notes, as Markdown for README.md.
import { availableParallelism } from 'node:os';
import type { CaseReport } from './case-report.js';
import { formatTable } from './format-table.js';

export function formatReport(report: CaseReport): string {
  return [
    `### ${report.title}`,
    '',
    ...report.setup.map((line) => `- ${line}`),
    '',
    ...report.tables.flatMap((table) => [formatTable(table), '']),
    ...report.notes.map((line) => `- ${line}`),
    `- case wall time: ${Math.round(report.durationSeconds)} s; host load average (1 min) ${report.loadAverage.before.toFixed(2)} at start, ${report.loadAverage.after.toFixed(2)} at end` +
      (report.loadAverage.before > availableParallelism() ? ' (above the CPU count: other work was running, timings are pessimistic)' : ''),
    '',
  ].join('\n');
}
