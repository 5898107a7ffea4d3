// Case 4, WAL scan speed: scanWalSegment (CRC-checks every record, collects commit times) over real 16 MiB
// segments of two kinds, bulk load (pgbench -i: big records) and OLTP (pgbench after a checkpoint: small
// records and full-page images), against `pg_waldump -q` on the same segments.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { PostgresServer } from '../../tests/harness/postgres.js';
import type { BenchContext } from '../bench-context.js';
import { findPostgresBindir } from '../../tests/harness/postgres-binaries.js';
import { runPgbench, startBenchPostgres } from '../data/bench-postgres.js';
import { runInChild } from '../measure/run-in-child.js';
import { runTimedCommand, shellQuote } from '../measure/run-timed-command.js';
import { median, summarizeRuns } from '../measure/summarize-runs.js';
import { fmt, fmtMB, type CaseResult } from '../report/case-report.js';

interface SegmentSet {
  name: string;
  recipe: string;
  dir: string;
  segments: string[];
}

async function currentSegment(pg: PostgresServer): Promise<string> {
  const [row] = await pg.query<{ name: string }>('SELECT pg_walfile_name(pg_current_wal_lsn()) AS name');
  return row!.name;
}

/** Copies the complete segments written from `from` (inclusive) and the WAL switch that ends the set. */
async function collectSegments(ctx: BenchContext, pg: PostgresServer, name: string, recipe: string, from: string, limit: number): Promise<SegmentSet> {
  await pg.query('SELECT pg_switch_wal()');
  const next = await currentSegment(pg);
  const walDir = join(pg.dataDir, 'pg_wal');
  // The last segment before `next` holds the switch record and an unused tail: not a full segment of records.
  const names = readdirSync(walDir).filter((file) => /^[0-9A-F]{24}$/.test(file) && file >= from && file < next).sort().slice(0, -1).slice(-limit);
  if (names.length === 0) throw new Error(`no complete ${name} WAL segments between ${from} and ${next}`);
  const dir = join(ctx.workDir, `wal-${name.replace(/\W+/g, '-')}`);
  mkdirSync(dir, { recursive: true });
  for (const file of names) copyFileSync(join(walDir, file), join(dir, file));
  return { name, recipe, dir, segments: names };
}

export async function runWalScanCase(ctx: BenchContext): Promise<CaseResult> {
  const scale = ctx.quick ? 6 : 20;
  const loadSeconds = ctx.quick ? 10 : 30;
  const limit = ctx.quick ? 4 : 16;
  const rounds = ctx.quick ? 3 : 5;
  ctx.log('wal-scan: making WAL');
  const pg = await startBenchPostgres();
  const sets: SegmentSet[] = [];
  try {
    // The slot keeps every segment from now on, whatever checkpoints recycle.
    await pg.query("SELECT pg_create_physical_replication_slot('bench_keep', true)");
    let from = await currentSegment(pg);
    await runPgbench(pg, ['-i', '-q', '-s', String(scale)]);
    sets.push(await collectSegments(ctx, pg, 'bulk load', `pgbench -i -q -s ${scale}`, from, limit));
    await pg.query('CHECKPOINT');
    from = await currentSegment(pg);
    await runPgbench(pg, ['-c', '4', '-j', '2', '-T', String(loadSeconds)]);
    sets.push(await collectSegments(ctx, pg, 'OLTP', `CHECKPOINT; pgbench -c 4 -j 2 -T ${loadSeconds}`, from, limit));
  } finally {
    await pg.stop();
  }

  const rows: string[][] = [];
  const data: unknown[] = [];
  for (const set of sets) {
    ctx.log(`wal-scan: ${set.name}, ${set.segments.length} segments`);
    const outcome = await runInChild('wal-scan', { files: set.segments.map((file) => join(set.dir, file)), rounds });
    const scan = summarizeRuns(outcome.result.bytes, outcome.result.roundSeconds);
    const waldumpCommand = `${shellQuote(join(findPostgresBindir()!, 'pg_waldump'))} -q -p ${shellQuote(set.dir)} ${set.segments[0]} ${set.segments.at(-1)}`;
    const waldump = [];
    for (let round = 0; round < rounds; round++) waldump.push(await runTimedCommand(waldumpCommand));
    const dump = summarizeRuns(outcome.result.bytes, waldump.map((one) => one.wallSeconds));
    rows.push(
      [set.name, 'scanWalSegment (node, in memory)', String(set.segments.length), fmt(scan.bestMBps), fmt(scan.medianMBps), `${outcome.result.xactCount} xacts, ${outcome.result.completeSegments} complete`, fmtMB(outcome.peakRssBytes)],
      [set.name, 'pg_waldump -q (page-cached files)', String(set.segments.length), fmt(dump.bestMBps), fmt(dump.medianMBps), '-', fmtMB(Math.max(...waldump.map((one) => one.peakRssBytes)))],
    );
    data.push({ set: set.name, recipe: set.recipe, segments: set.segments, scan: { ...scan, ...outcome.result, peakRssBytes: outcome.peakRssBytes }, waldump: { command: waldumpCommand, ...dump, cpuSeconds: median(waldump.map((one) => one.cpuSeconds)) } });
  }
  return {
    name: 'wal-scan',
    title: 'WAL scan speed',
    setup: [
      ...sets.map((set) => `${set.name} segments: ${set.recipe} (scale ${scale}); the ${set.segments.length} complete 16 MiB segments before the closing pg_switch_wal()`),
      `scanWalSegment: all segments read into memory first, then ${rounds} timed rounds over all of them in one node child; pg_waldump -q: ${rounds} runs`,
    ],
    tables: [{ title: 'WAL scan (MB/s, MB = 10^6 bytes)', headers: ['WAL', 'scanner', 'segments', 'MB/s best', 'MB/s median', 'found', 'peak RSS MB (segments in memory)'], rows }],
    notes: [],
    data,
  };
}
