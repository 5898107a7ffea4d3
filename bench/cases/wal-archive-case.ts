// Case 3, WAL archiving under load: runWalArchive in a child process while `pgbench -c 4 -T 60` writes to a
// scale-20 database; WAL produced (server LSN) against WAL archived, the lag the archiver reported, and how
// long it needs after the load to hold all of it.
import { join } from 'node:path';
import type { BenchContext } from '../bench-context.js';
import { BENCH_PG_SETTINGS, createBenchFixture, runPgbench, startBenchPostgres } from '../data/bench-postgres.js';
import { describeChildBaseline, runInChild } from '../measure/run-in-child.js';
import { fmt, fmtMB, type CaseResult } from '../report/case-report.js';

export async function runWalArchiveCase(ctx: BenchContext): Promise<CaseResult> {
  const scale = ctx.quick ? 5 : 20;
  const seconds = ctx.quick ? 15 : 60;
  // The product default (60 s) in a full run; quick runs upload partials every 10 s so they end sooner.
  const wal = ctx.quick ? { partialUploadIntervalSeconds: 10 } : {};
  const partialSeconds = ctx.quick ? 10 : 60;
  const pgbenchArgs = ['-c', '4', '-j', '2', '-T', String(seconds)];
  ctx.log(`wal-archive: pgbench -i -s ${scale}`);
  const pg = await startBenchPostgres();
  try {
    await runPgbench(pg, ['-i', '-q', '-s', String(scale)]);
    const fixture = createBenchFixture(pg, wal);
    try {
      ctx.log(`wal-archive: archiver + pgbench ${pgbenchArgs.join(' ')}`);
      const outcome = await runInChild('wal-archive', {
        configPath: fixture.configPath,
        env: { FIXTURE_PGPASSWORD: pg.lifeboat.password },
        superuser: { host: pg.host, port: pg.port, ...pg.superuser },
        pgbenchPath: join(pg.bindir, 'pgbench'),
        pgbenchArgs,
        drainTimeoutSeconds: partialSeconds + 30,
      });
      const result = outcome.result;
      const tps = Number(/tps = ([\d.]+)/.exec(result.pgbenchOutput)?.[1]).toFixed(0);
      const rate = (bytes: number): string => fmt(bytes / 1e6 / result.loadSeconds, 1);
      const rows: string[][] = [
        ['load', `pgbench ${pgbenchArgs.join(' ')} on scale ${scale}: ${tps} tps`],
        ['WAL produced (pg_current_wal_lsn diff)', `${fmtMB(result.walProducedBytes)} MB in ${fmt(result.loadSeconds, 1)} s = ${rate(result.walProducedBytes)} MB/s`],
        [
          'of it archived when the load stopped (lastArchivedLsn - start LSN)',
          `${fmtMB(result.archivedOfLoadBytes)} MB = ${rate(result.archivedOfLoadBytes)} MB/s; ${result.segmentsArchivedDuringLoad} segments shipped during the load`,
        ],
        ['max lag during the load', `${fmtMB(result.maxLagBytes)} MB, ${fmt(result.maxLagSeconds, 1)} s`],
        ['lag when the load stopped', `${fmtMB(result.lagAtLoadEnd.lagBytes)} MB, ${fmt(result.lagAtLoadEnd.lagSeconds, 1)} s`],
        [
          'archive holds all WAL of the load',
          result.catchUpSeconds === null ? `not within ${partialSeconds + 30} s` : `${fmt(result.catchUpSeconds, 1)} s after the load stopped`,
        ],
        ['lag then', `${fmtMB(result.lagAfterCatchUp.lagBytes)} MB, ${fmt(result.lagAfterCatchUp.lagSeconds, 1)} s`],
        ['repository at the end', `${result.segmentsStored} segments, ${result.partialsUploaded} partial uploads`],
        ['archiver process (node) peak RSS / CPU', `${fmtMB(outcome.peakRssBytes)} MB / ${fmt(outcome.cpuSeconds, 1)} s (+ pg_receivewal ${fmt(outcome.childProcessesCpuSeconds - result.pgbenchCpuSeconds, 1)} s)`],
      ];
      const baseline = await describeChildBaseline('wal-archive');
      return {
        name: 'wal-archive',
        title: 'WAL archiving under load',
        setup: [
          `initdb; pgbench -i -q -s ${scale}; server settings: harness defaults + ${Object.entries(BENCH_PG_SETTINGS).map(([name, value]) => `${name}=${value}`).join(', ')}`,
          `runWalArchive in a node child (fs repository, zstd 3, local key, pollMs 1000, partialUploadIntervalSeconds ${partialSeconds}); CHECKPOINT, then pgbench ${pgbenchArgs.join(' ')}, after 3 archiver cycles`,
          'lag figures are the archiver\'s own onState reports (lagBytes = server LSN - archived LSN, partials included)',
          baseline,
        ],
        tables: [{ title: 'WAL archiving', headers: ['measure', 'value'], rows }],
        notes: [],
        data: { scale, pgbenchArgs, partialUploadIntervalSeconds: partialSeconds, ...result, peakRssBytes: outcome.peakRssBytes, cpuSeconds: outcome.cpuSeconds },
      };
    } finally {
      fixture.cleanup();
    }
  } finally {
    await pg.stop();
  }
}
