// The drill's Markdown report for people: the outcome comes first, RPO and RTO stand against their targets, the
// RTO phases add up to the total, every check has a row, and text from outside (messages, details) cannot break
// a table or turn into markup. Tables are read back by splitting cells the way GFM does.
import { describe, expect, it } from 'vitest';
import { decideDrillOutcome, type DrillResult } from '../../src/drills/drill-result.js';
import { formatDrillMarkdown } from '../../src/drills/report/format-drill-markdown.js';
import { buildDrillResult, buildFailedToRunDrillResult } from '../harness/drill-results.js';

/** The GFM table under `heading`: rows of cells (header and separator dropped); a `\|` does not split a cell. */
function tableUnder(markdown: string, heading: RegExp): string[][] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => heading.test(line));
  expect(start, `no heading ${heading}`).toBeGreaterThanOrEqual(0);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 1)) {
    if (line === '' && rows.length === 0) continue;
    if (!line.startsWith('|')) break;
    rows.push(line.slice(1, -1).split(/(?<!\\)\|/).map((cell) => cell.trim()));
  }
  return rows.slice(2);
}

/** `5 min 12 s`, `41.9 s`, `0.62 s` back to seconds. */
function seconds(text: string): number {
  const plain = text.replace(/\*/g, '');
  const minutes = /^(\d+) min (\d+) s$/.exec(plain);
  if (minutes) return Number(minutes[1]) * 60 + Number(minutes[2]);
  const secs = /^([\d.]+) s$/.exec(plain);
  if (secs) return Number(secs[1]);
  throw new Error(`not a duration: ${text}`);
}

describe('drill Markdown report', () => {
  it('starts with the outcome and shows RPO and RTO against their targets', () => {
    const markdown = formatDrillMarkdown(buildDrillResult());
    const [title, , outcome] = markdown.split('\n');
    expect(title).toBe('# Restore drill PASSED: main, latest');
    expect(outcome).toBe('**PASSED**: targets: 2 passed; checks: 4 passed, 1 skipped.');
    expect(tableUnder(markdown, /^## RPO and RTO$/)).toEqual([
      ['RPO (data lost)', '4.21 s, 1 heartbeat lost', '1 h 00 min', 'passed', 'within the target'],
      ['RTO (until the restored server answers)', '41.9 s', '4 h 00 min', 'passed', 'within the target'],
    ]);
    expect(markdown).toContain('RPO measured from the newest heartbeat row in the restored database; newest restored: 2026-11-29T13:45:05.790Z.');
  });

  it('splits the RTO into phases that add up to the total', () => {
    const rows = tableUnder(formatDrillMarkdown(buildDrillResult()), /^## RTO by phase$/);
    expect(rows.map((row) => row[0])).toEqual(['plan (choose backup and WAL)', 'fetch base backup', 'WAL replay', 'promote and first query', '**total**']);
    const total = seconds(rows.at(-1)![1]!);
    const sum = rows.slice(0, -1).reduce((acc, row) => acc + seconds(row[1]!), 0);
    expect(sum).toBeCloseTo(total, 1);
    expect(total).toBeCloseTo(41.85, 1);
  });

  it('shows phases that do not add up with the difference as its own row', () => {
    const base = buildDrillResult();
    const markdown = formatDrillMarkdown({ ...base, rto: { seconds: 50, phases: base.rto.phases } });
    const rows = tableUnder(markdown, /^## RTO by phase$/);
    expect(rows.at(-2)).toEqual(['unaccounted', '8.15 s', '16 %']);
    expect(rows.at(-1)).toEqual(['**total**', '**50 s**', '100 %']);
  });

  it('has a row per check, and names what failed in the outcome line', () => {
    const base = buildDrillResult({ rtoTargetSeconds: 1 });
    const withFinding: DrillResult = {
      ...base,
      checks: [...base.checks, { name: 'amcheck:app|db', outcome: 'failed', durationMs: 61_000, message: 'heap table "public.orders" | block 7: invalid <lp_off>', details: 'line one\n```\nline three' }],
    };
    const result = { ...withFinding, outcome: decideDrillOutcome(withFinding) };
    const markdown = formatDrillMarkdown(result);
    expect(markdown.split('\n')[2]).toBe('**FAILED**: failed `rto`, `amcheck:app|db`; targets: 1 passed, 1 failed; checks: 4 passed, 1 skipped, 1 failed.');
    const rows = tableUnder(markdown, /^## Checks /);
    expect(rows).toHaveLength(6);
    expect(rows.at(-1)).toEqual(['`amcheck:app\\|db`', 'failed', '1 min 1 s', 'heap table "public.orders" \\| block 7: invalid &lt;lp\\_off&gt;']);
    // Details go into a fence longer than any backtick run they hold, so they cannot close it early.
    expect(markdown).toContain('### `amcheck:app|db`: failed\n\n````text\nline one\n```\nline three\n````');
  });

  it('says what was restored and with which versions', () => {
    const markdown = formatDrillMarkdown(buildDrillResult());
    expect(markdown).toContain('- backup: `20261129T120000Z-F` (full, completed 2026-11-29T12:00:41.000Z)');
    expect(markdown).toContain('- WAL: 12 segments from `000000010000000000000004` to `00000001000000000000000F`, 18.2 MB stored');
    expect(markdown).toContain('- versions: Lifeboat 0.1.0, PostgreSQL 16.4 (source), 16.4 (scratch server)');
    expect(markdown).toContain('- scenario: `latest` (`drills/latest.yaml`): restore the newest point from the primary repository');
  });

  it('leads with the error and its hint when the drill could not run', () => {
    const markdown = formatDrillMarkdown(buildFailedToRunDrillResult());
    const lines = markdown.split('\n');
    expect(lines[0]).toBe('# Restore drill FAILED: main, latest');
    expect(lines[2]).toContain('**FAILED**: the drill could not run: listing "clusters/main/backups/" in s3://drills/repo/ failed');
    expect(markdown).toContain('## Error\n\n`error[storageUnavailable]` (exit 70): listing');
    expect(markdown).toContain('**Hint:** check that the repository is reachable, then retry');
    expect(markdown).toContain('- backup: none (the drill stopped before choosing one)');
    expect(tableUnder(markdown, /^## RPO and RTO$/)[1]).toEqual(['RTO (until the restored server answers)', 'not measured', '-', '-', '-']);
  });
});
