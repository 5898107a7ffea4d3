// Progress display: the pure formatting (sizes, rates, ETA, the bar, the line), rates measured over at least a
// second (never "8.4 GB/s" from the first report), a redrawn bar on a terminal and periodic log lines otherwise.
import { describe, expect, it } from 'vitest';
import { estimateSecondsLeft, formatBar, formatBytes, formatDuration, formatProgressLine, formatProgressSummary, formatRate } from '../../src/cli/format-progress.js';
import { createProgressReporter } from '../../src/cli/progress-reporter.js';
import { createRateWindow } from '../../src/cli/rate-window.js';

const MiB = 1 << 20;

describe('formatting', () => {
  it('sizes and rates in decimal units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1500)).toBe('1.5 kB');
    expect(formatBytes(85_300_000)).toBe('85.3 MB');
    expect(formatBytes(2_704_000_000)).toBe('2.70 GB');
    expect(formatRate(85_300_000)).toBe('85.3 MB/s');
    expect(formatRate(undefined)).toBe('-- MB/s');
  });

  it('durations in s, min and h', () => {
    expect(formatDuration(17.6)).toBe('18 s');
    expect(formatDuration(245)).toBe('4 min 05 s');
    expect(formatDuration(7620)).toBe('2 h 07 min');
  });

  it('ETA only with a total and a measured rate, and not past the total', () => {
    expect(estimateSecondsLeft(1e9, 3e9, 100e6)).toBe(20);
    expect(estimateSecondsLeft(1e9, undefined, 100e6)).toBeUndefined();
    expect(estimateSecondsLeft(1e9, 3e9, undefined)).toBeUndefined();
    expect(estimateSecondsLeft(4e9, 3e9, 100e6)).toBeUndefined();
  });

  it('a bar of fixed width, clamped', () => {
    expect(formatBar(0, 10)).toBe('[>         ]');
    expect(formatBar(0.5, 10)).toBe('[=====>    ]');
    expect(formatBar(1, 10)).toBe('[==========]');
    expect(formatBar(1.7, 10)).toBe('[==========]');
    expect(formatBar(Number.NaN, 10)).toBe('[>         ]');
  });

  it('a line with bar, percent, bytes, rate and ETA; without a total only bytes and rate', () => {
    const snapshot = { label: 'restore base', doneBytes: 1.21e9, totalBytes: 2.7e9, bytesPerSecond: 85.3e6, elapsedMs: 14_000 };
    expect(formatProgressLine(snapshot, { bar: true })).toBe('restore base  [==========>             ]   44%  1.21 GB of 2.70 GB  85.3 MB/s  ETA 17 s');
    expect(formatProgressLine(snapshot, { bar: false })).toBe('restore base: 1.21 GB of 2.70 GB (44%), 85.3 MB/s, ETA 17 s');
    expect(formatProgressLine({ ...snapshot, totalBytes: undefined, bytesPerSecond: undefined }, { bar: true })).toBe('restore base  1.21 GB  -- MB/s');
    expect(formatProgressSummary({ ...snapshot, doneBytes: 2.7e9, elapsedMs: 31_400 }, 86e6)).toBe('restore base: 2.70 GB in 31 s (86.0 MB/s)');
    expect(formatProgressSummary({ ...snapshot, doneBytes: 5e6, elapsedMs: 400 }, undefined)).toBe('restore base: 5.0 MB in 0.4 s');
  });
});

describe('createRateWindow', () => {
  it('has no rate until the reports span a second, whatever the first report says', () => {
    const rate = createRateWindow();
    rate.add(0, 8 * MiB); // the first report already counts 8 MiB: no rate from it
    expect(rate.bytesPerSecond()).toBeUndefined();
    rate.add(1, 16 * MiB);
    rate.add(600, 24 * MiB);
    expect(rate.bytesPerSecond()).toBeUndefined();
    rate.add(1500, 32 * MiB);
    expect(rate.bytesPerSecond()).toBeCloseTo((24 * MiB) / 1.5, 0);
  });

  it('follows the recent rate over its window, and keeps the average from the first report', () => {
    const rate = createRateWindow({ windowMs: 5000 });
    let bytes = 0;
    for (let t = 0; t <= 10_000; t += 250) {
      bytes += t <= 5000 ? 250_000 : 25_000; // 1 MB/s, then 100 kB/s
      rate.add(t, bytes);
    }
    expect(rate.bytesPerSecond()).toBeCloseTo(100_000, -3);
    expect(rate.averageBytesPerSecond()).toBeCloseTo((bytes - 250_000) / 10, -3);
  });

  it('keeps memory small at any report rate', () => {
    const rate = createRateWindow({ windowMs: 1000, resolutionMs: 100 });
    for (let t = 0; t < 60_000; t += 1) rate.add(t, t * 1000);
    expect(rate.bytesPerSecond()).toBeCloseTo(1_000_000, -3);
  });
});

function fakeOutput(isTTY: boolean) {
  const writes: string[] = [];
  const logs: { fields: Record<string, unknown>; message: string }[] = [];
  return {
    writes,
    logs,
    stream: { isTTY, write: (text: string) => writes.push(text) },
    log: { info: (fields: Record<string, unknown>, message: string) => logs.push({ fields, message }) },
  };
}

describe('createProgressReporter', () => {
  it('without a terminal: a log line every 10 s and a summary per phase, nothing drawn', () => {
    let clock = 0;
    const out = fakeOutput(false);
    const reporter = createProgressReporter({ label: 'restore', stream: out.stream, log: out.log, now: () => clock });
    const total = 35 * 50e6;
    for (clock = 0; clock <= 35_000; clock += 100) reporter.update('base', (clock / 1000) * 50e6, total);
    reporter.update('wal', 1e6, 2e6);
    reporter.done();
    expect(out.writes).toEqual([]);
    expect(out.logs.map((l) => l.message)).toEqual([
      'restore base: 500.0 MB of 1.75 GB (28%), 50.0 MB/s, ETA 25 s',
      'restore base: 1.00 GB of 1.75 GB (57%), 50.0 MB/s, ETA 15 s',
      'restore base: 1.50 GB of 1.75 GB (85%), 50.0 MB/s, ETA 5 s',
      'restore base: 1.75 GB in 35 s (50.0 MB/s)',
      'restore wal: 1.0 MB in 0.0 s',
    ]);
    expect(out.logs[0]!.fields).toMatchObject({ phase: 'base', doneBytes: 500e6, totalBytes: total, rateBytesPerSecond: 50e6 });
  });

  it('on a terminal: a bar redrawn in place at most every 200 ms, ended by its summary on its own line', () => {
    let clock = 0;
    const out = fakeOutput(true);
    const reporter = createProgressReporter({ label: 'verify', stream: out.stream, log: out.log, now: () => clock });
    for (clock = 0; clock <= 2000; clock += 50) reporter.update('main', clock * 1000, 4e6);
    reporter.done();
    expect(out.logs).toEqual([]);
    expect(out.writes).toHaveLength(11 + 1); // t = 0, 200, ..., 2000, then the summary
    expect(out.writes.slice(0, 11).every((w) => w.startsWith('\r') && w.endsWith('\x1b[K\r'))).toBe(true);
    expect(out.writes[0]).toContain('verify main  [>');
    expect(out.writes[0]).toContain('-- MB/s  ETA --'); // no rate from the first report
    expect(out.writes[10]).toContain('2.0 MB of 4.0 MB  1.0 MB/s  ETA 2 s');
    expect(out.writes[11]).toBe('\rverify main: 2.0 MB in 2.0 s (1.0 MB/s)\x1b[K\n');
  });
});
