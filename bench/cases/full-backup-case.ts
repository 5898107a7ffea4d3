// Case 2, full backup: runFullBackup (with runWalArchive alongside, in one child process) to the fs repository
// with zstd 3 + encryption, on a pgbench database and on a table of random text, against pg_basebackup piped
// into zstd (the raw ceiling), pg_basebackup alone, and pg_basebackup with server-side zstd.
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { PostgresServer } from '../../tests/harness/postgres.js';
import type { BenchContext } from '../bench-context.js';
import { BENCH_PG_SETTINGS, createBenchFixture, databaseSizeBytes, lifeboatEnv, runPgbench, startBenchPostgres } from '../data/bench-postgres.js';
import { describeChildBaseline, runInChild } from '../measure/run-in-child.js';
import { runTimedCommand, shellQuote } from '../measure/run-timed-command.js';
import { median, summarizeRuns, throughputRatio, type RunSummary } from '../measure/summarize-runs.js';
import { fmt, fmtMB, type CaseResult } from '../report/case-report.js';

interface Database {
  name: string;
  recipe: string;
  load(pg: PostgresServer): Promise<void>;
}

interface Contender {
  label: string;
  command: string;
  wallSeconds: number[];
  cpuSeconds: number[];
  peakRssBytes: number[];
  /** Bytes that came out: stored size (Lifeboat) or compressed stream size (raw). */
  outputBytes: number;
  summary?: RunSummary;
}

interface DatabaseResult {
  name: string;
  databaseSizeBytes: number;
  tarSizeBytes: number;
  contenders: Contender[];
  /** Lifeboat runs: time to the last part stored, and the total. */
  lifeboatPhases: { streamSeconds: number; seconds: number }[];
}

async function folderSizeBytes(dir: string): Promise<number> {
  const sizes = await Promise.all((await readdir(dir)).map(async (name) => (await stat(join(dir, name))).size));
  return sizes.reduce((sum, size) => sum + size, 0);
}

function databases(quick: boolean): Database[] {
  const scale = quick ? 10 : 100;
  const rows = quick ? 1_300_000 : 13_000_000;
  const randomTable =
    `CREATE TABLE t AS SELECT g AS id, now() - random() * interval '1000 days' AS at, md5(random()::text) || md5(random()::text) AS payload ` +
    `FROM generate_series(1, ${rows}) g`;
  return [
    {
      name: `pgbench scale ${scale}`,
      recipe: `pgbench -i -q -s ${scale}; VACUUM FREEZE; CHECKPOINT`,
      load: async (pg) => {
        await runPgbench(pg, ['-i', '-q', '-s', String(scale)]);
      },
    },
    {
      name: 'random text table',
      recipe: `${randomTable}; VACUUM FREEZE; CHECKPOINT`,
      load: async (pg) => {
        await pg.query(randomTable);
      },
    },
  ];
}

async function benchDatabase(ctx: BenchContext, database: Database, runs: number): Promise<DatabaseResult> {
  const log = (message: string): void => ctx.log(`full-backup: ${database.name}: ${message}`);
  log('loading');
  const pg = await startBenchPostgres();
  try {
    await database.load(pg);
    // Frozen and checkpointed: no run after the first rewrites pages (hint bits, freezing), so runs are alike.
    await pg.query('VACUUM FREEZE');
    await pg.query('CHECKPOINT');
    const sizeBytes = await databaseSizeBytes(pg);
    const fixture = createBenchFixture(pg);
    try {
      const basebackup = `${shellQuote(join(pg.bindir, 'pg_basebackup'))} -h ${pg.host} -p ${pg.port} -U lifeboat -c fast -Ft -X none --manifest-checksums=SHA256`;
      // Server-compressed tar cannot go to stdout with a manifest ("cannot inject manifest into a compressed tar
      // file"), so those runs write base.tar.zst + backup_manifest to a folder; the output size is summed after.
      const outDir = join(ctx.workDir, 'server-zstd');
      const raw = [
        { label: 'pg_basebackup | zstd -3 -T0 (raw ceiling)', command: `${basebackup} -D - | zstd -3 -T0 | wc -c`, runs },
        { label: 'pg_basebackup alone (no compression)', command: `${basebackup} -D - | wc -c`, runs: 1 },
        { label: 'pg_basebackup server-zstd:level=3', command: `${basebackup} --compress=server-zstd:level=3 -D ${shellQuote(outDir)}`, runs: 1 },
        { label: 'pg_basebackup server-zstd:level=3,workers=2', command: `${basebackup} --compress=server-zstd:level=3,workers=2 -D ${shellQuote(outDir)}`, runs: 1 },
      ];
      const contenders = new Map<string, Contender>();
      const record = (label: string, command: string, wall: number, cpu: number, rss: number, outputBytes: number): void => {
        const entry = contenders.get(label) ?? { label, command, wallSeconds: [], cpuSeconds: [], peakRssBytes: [], outputBytes };
        entry.wallSeconds.push(wall);
        entry.cpuSeconds.push(cpu);
        entry.peakRssBytes.push(rss);
        contenders.set(label, entry);
      };
      const runRaw = async (which: (typeof raw)[number]): Promise<void> => {
        log(which.label);
        await rm(outDir, { recursive: true, force: true });
        const timed = await runTimedCommand(which.command, lifeboatEnv(pg));
        const outputBytes = which.command.endsWith('| wc -c') ? Number(timed.stdout.trim()) : await folderSizeBytes(outDir);
        record(which.label, which.command, timed.wallSeconds, timed.cpuSeconds, timed.peakRssBytes, outputBytes);
      };
      // The uncompressed run first: it also warms the page cache for everything after it.
      await runRaw(raw[1]!);
      const phases: DatabaseResult['lifeboatPhases'] = [];
      let tarSizeBytes = 0;
      const lifeboatLabel = 'Lifeboat runFullBackup (zstd 3 + encryption, fs)';
      for (let run = 1; run <= runs; run++) {
        log(`runFullBackup, run ${run}/${runs}`);
        const outcome = await runInChild('full-backup', { configPath: fixture.configPath, env: { FIXTURE_PGPASSWORD: pg.lifeboat.password } });
        const result = outcome.result;
        tarSizeBytes = result.tarSizeBytes;
        phases.push({ streamSeconds: result.streamSeconds, seconds: result.seconds });
        record(
          lifeboatLabel,
          `runFullBackup + runWalArchive in one node child; fs repository, 256 MiB parts; ${result.parts} parts`,
          result.seconds,
          outcome.cpuSeconds + outcome.childProcessesCpuSeconds,
          outcome.peakRssBytes,
          result.storedSizeBytes,
        );
        await runRaw(raw[0]!);
      }
      await runRaw(raw[2]!);
      await runRaw(raw[3]!);
      const list = [...contenders.values()].map((one) => ({ ...one, summary: summarizeRuns(tarSizeBytes, one.wallSeconds) }));
      const order = [lifeboatLabel, ...raw.map((one) => one.label)];
      list.sort((a, b) => order.indexOf(a.label) - order.indexOf(b.label));
      return { name: database.name, databaseSizeBytes: sizeBytes, tarSizeBytes, contenders: list, lifeboatPhases: phases };
    } finally {
      fixture.cleanup();
    }
  } finally {
    await pg.stop();
  }
}

function tableRows(result: DatabaseResult): string[][] {
  const ceiling = result.contenders.find((one) => one.label.includes('raw ceiling'));
  return result.contenders.map((one) => [
    result.name,
    one.label,
    fmt(one.summary!.medianMBps),
    fmt(one.summary!.bestMBps),
    ceiling && ceiling !== one ? `${throughputRatio(one.summary!, ceiling.summary!).toFixed(2)}x` : '-',
    fmtMB(one.outputBytes),
    `${(result.tarSizeBytes / one.outputBytes).toFixed(2)}x`,
    fmt(median(one.cpuSeconds), 1),
    fmtMB(Math.max(...one.peakRssBytes)),
    String(one.wallSeconds.length),
  ]);
}

export async function runFullBackupCase(ctx: BenchContext): Promise<CaseResult> {
  const runs = ctx.quick ? 1 : 3;
  const results: DatabaseResult[] = [];
  const list = databases(ctx.quick);
  for (const database of list) results.push(await benchDatabase(ctx, database, runs));
  const baseline = await describeChildBaseline('full-backup');
  const notes = results.flatMap((result) => {
    const lifeboat = result.contenders[0]!;
    const ceiling = result.contenders.find((one) => one.label.includes('raw ceiling'))!;
    const server = result.contenders.filter((one) => one.label.includes('server-zstd'));
    const stream = median(result.lifeboatPhases.map((one) => one.streamSeconds));
    const total = median(result.lifeboatPhases.map((one) => one.seconds));
    return [
      `${result.name}: database ${fmtMB(result.databaseSizeBytes)} MB, tar stream ${fmtMB(result.tarSizeBytes)} MB; Lifeboat at ${throughputRatio(lifeboat.summary!, ceiling.summary!).toFixed(2)}x the raw ceiling`,
      `${result.name}: runFullBackup median ${total.toFixed(1)} s = ${stream.toFixed(1)} s streaming parts + ${(total - stream).toFixed(1)} s for the WAL wait, WAL read-back and manifest`,
      ...server.map((one) => `${result.name}: ${one.label} at ${throughputRatio(one.summary!, ceiling.summary!).toFixed(2)}x the client-side zstd pipe, output ${fmtMB(one.outputBytes)} MB`),
    ];
  });
  return {
    name: 'full-backup',
    title: 'Full backup',
    setup: [
      ...list.map((database) => `database "${database.name}": initdb; ${database.recipe}`),
      `server settings: harness defaults (wal_level=replica) + ${Object.entries(BENCH_PG_SETTINGS).map(([name, value]) => `${name}=${value}`).join(', ')}; everything page-cached (24 GiB RAM)`,
      'raw commands: `pg_basebackup -h H -p P -U lifeboat -c fast -Ft -X none --manifest-checksums=SHA256 -D - [| zstd -3 -T0] | wc -c`; server-side: `... --compress=server-zstd:level=3[,workers=2] -D DIR` (a compressed tar cannot go to stdout with a manifest)',
      'Lifeboat: runFullBackup with runWalArchive running alongside in the same child process (product defaults: zstd 3, 256 MiB parts, local key); timed around runFullBackup',
      baseline,
      `MB/s = tar stream bytes (${'the backup\'s tarSizeBytes'}) / wall seconds; CPU s includes pg_basebackup / pg_receivewal / zstd client processes, not the server`,
      `runs: Lifeboat and raw ceiling ${runs} each (alternating), the other raw commands 1`,
    ],
    tables: [
      {
        title: 'Full backup throughput (MB/s of the tar stream, MB = 10^6 bytes; vs ceiling = throughput / `pg_basebackup | zstd -3 -T0`)',
        headers: ['database', 'contender', 'MB/s median', 'MB/s best', 'vs ceiling', 'output MB', 'compression', 'CPU s', 'peak RSS MB', 'runs'],
        rows: results.flatMap(tableRows),
      },
    ],
    notes,
    data: results,
  };
}
