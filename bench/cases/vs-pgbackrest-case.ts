// Case vs-pgbackrest: Lifeboat side by side with pgBackRest (the tool users would pick instead) on one pgbench
// database in one run, the tools in alternation: full backup; restore of the latest point and to a time in the
// middle of the WAL written after the backup, until promoted and answering; WAL archiving lag under pgbench
// load; the cost of one short command; and the peak RSS of every process each tool starts.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { BenchContext } from '../bench-context.js';
import { BENCH_PG_SETTINGS, createBenchFixture, databaseSizeBytes, runPgbench, startBenchPostgres } from '../data/bench-postgres.js';
import type { CaseResult } from '../report/case-report.js';
import { fmtMB } from '../report/case-report.js';
import { currentLsn, lastArchivedBySegmentCommand, waitArchived } from '../versus/archive-lag.js';
import { formatVersusTables, type VersusRuns } from '../versus/format-versus-report.js';
import { createLifeboatCommands } from '../versus/lifeboat-commands.js';
import { createPgbackrest, pgbackrestVersion } from '../versus/pgbackrest.js';
import { measureSingleCommands } from '../versus/single-commands.js';
import { runArchiveLag, runBackup, runRestore, type Contender, type RestoreTarget, type Versus } from '../versus/versus-operations.js';

const ALL_CONTENDERS: readonly Contender[] = ['lifeboat', 'pgbackrest', 'pgbackrest-async'];

/**
 * For iterating on one tool (not for the README): BENCH_VERSUS_CONTENDERS=lifeboat runs only the contenders named
 * (comma-separated), BENCH_VERSUS_RUNS=N sets the runs per operation. The ratios need both tools, of course.
 */
function contendersFromEnv(): readonly Contender[] {
  const named = process.env.BENCH_VERSUS_CONTENDERS?.split(',').map((name) => name.trim()).filter((name) => name !== '');
  if (named === undefined || named.length === 0) return ALL_CONTENDERS;
  const unknown = named.filter((name) => !ALL_CONTENDERS.includes(name as Contender));
  if (unknown.length > 0) throw new Error(`BENCH_VERSUS_CONTENDERS names ${unknown.join(', ')}; the contenders are ${ALL_CONTENDERS.join(', ')}`);
  return named as Contender[];
}

/** `list` rotated by `run`: each contender goes first in turn, so none always meets a warmer or colder cache. */
function rotated<T>(list: readonly T[], run: number): T[] {
  const shift = run % list.length;
  return [...list.slice(shift), ...list.slice(0, shift)];
}

function push<R>(into: Partial<Record<Contender, R[]>>, contender: Contender, run: R): void {
  (into[contender] ??= []).push(run);
}

export async function runVsPgbackrestCase(ctx: BenchContext): Promise<CaseResult> {
  const scale = ctx.quick ? 10 : 100;
  const runs = Number(process.env.BENCH_VERSUS_RUNS ?? (ctx.quick ? 1 : 3));
  const restorers = contendersFromEnv();
  const backers = restorers.includes('lifeboat') ? ['lifeboat' as const, ...(restorers.some((c) => c !== 'lifeboat') ? ['pgbackrest' as const] : [])] : ['pgbackrest' as const];
  const loadSeconds = ctx.quick ? 15 : 60;
  const lagSeconds = ctx.quick ? 10 : 30;
  const log = (message: string): void => ctx.log(`vs-pgbackrest: ${message}`);
  // archive_mode needs a restart, so it is on from the start; until pgBackRest's stanza exists the WAL of the
  // initial load is thrown away (/bin/true), as neither tool's backups need it.
  const pg = await startBenchPostgres({ archive_mode: 'on', archive_command: '/bin/true' });
  const fixture = createBenchFixture(pg);
  const lifeboat = createLifeboatCommands(fixture, pg.lifeboat.password);
  try {
    log(`pgbench -i -s ${scale}`);
    await runPgbench(pg, ['-i', '-q', '-s', String(scale)]);
    // Frozen and checkpointed, as in the full-backup case: no backup after the first rewrites pages.
    await pg.query('VACUUM FREEZE');
    await pg.query('CHECKPOINT');
    const sizeBytes = await databaseSizeBytes(pg);
    const pgbackrest = await createPgbackrest(pg, join(ctx.workDir, 'pgbackrest'));
    const [segmentRow] = await pg.query<{ bytes: string }>(`SELECT setting AS bytes FROM pg_settings WHERE name = 'wal_segment_size'`);
    const v: Versus = {
      pg,
      lifeboat,
      pgbackrest,
      dir: ctx.workDir,
      segmentSizeBytes: Number(segmentRow!.bytes),
      async setArchiveCommand(mode) {
        const command = mode === 'paused' ? '' : pgbackrest.archiveCommand(mode);
        await pg.query(`ALTER SYSTEM SET archive_command = '${command.replaceAll("'", "''")}'`);
        await pg.query('SELECT pg_reload_conf()');
      },
    };
    await v.setArchiveCommand('default');
    await lifeboat.startArchiver();
    const result: VersusRuns = { backup: {}, latest: {}, pitr: {}, lag: {}, single: [] };

    // 1. Full backups, alternating; the last of each is what the restores start from.
    for (let run = 0; run < runs; run++) {
      for (const contender of rotated(backers, run)) {
        log(`full backup ${run + 1}/${runs}: ${contender}`);
        push(result.backup, contender, await runBackup(v, contender));
      }
    }

    // 2. WAL after the backups, archived by both; the PITR target is a time in its middle.
    log(`pgbench -c 4 -T ${loadSeconds}, archived by both`);
    const [firstRow] = await pg.query<{ name: string }>('SELECT pg_walfile_name(pg_current_wal_lsn()) AS name');
    const loadStartLsn = await currentLsn(pg);
    const load = runPgbench(pg, ['-c', '4', '-j', '2', '-T', String(loadSeconds)]);
    await new Promise((resolve) => setTimeout(resolve, (loadSeconds * 1000) / 2));
    const [timeRow] = await pg.query<{ at: string }>(`SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at`);
    const loadOutput = await load;
    const loadWalBytes = Number((await currentLsn(pg)) - loadStartLsn);
    await pg.query('SELECT pg_switch_wal()');
    const switchedAt = await currentLsn(pg);
    const drained = await Promise.all([
      waitArchived(() => Promise.resolve(lifeboat.lastArchivedSegment()), switchedAt, v.segmentSizeBytes, 600_000),
      waitArchived(() => lastArchivedBySegmentCommand(pg), switchedAt, v.segmentSizeBytes, 600_000),
    ]);
    if (drained.includes(false)) throw new Error('the WAL of the load was not archived by both tools within 600 s');
    const pitrTarget: RestoreTarget = { kind: 'time', time: timeRow!.at };
    // The source stays idle from here; a partial the archiver shipped during a restore would be root's alone, and
    // unreadable to the restore_command (running as postgres) of a restore that planned it. The lag runs restart it.
    await lifeboat.stopArchiver();

    // 3. Restores, alternating: the latest point, then the time in the middle.
    let index = 0;
    for (const [name, target] of [['latest', { kind: 'latest' }], ['pitr', pitrTarget]] as const) {
      for (let run = 0; run < runs; run++) {
        for (const contender of rotated(restorers, run)) {
          log(`restore ${name} ${run + 1}/${runs}: ${contender}`);
          const restored = await runRestore(v, contender, target, index++);
          log(`  ${restored.seconds.toFixed(1)} s: files ${restored.filesSeconds.toFixed(1)} s, replay ${restored.replaySeconds.toFixed(1)} s${restored.detail === undefined ? '' : `; ${restored.detail}`}`);
          push(result[name], contender, restored);
        }
      }
    }

    // 4. What PostgreSQL pays per segment: a CLI start and one fetch.
    log('single commands');
    result.single = await measureSingleCommands(v, firstRow!.name, ctx.quick ? 3 : 5);

    // 5. Archiving lag, each archiver alone under the same load (the others paused, then caught up).
    const pgbenchArgs = ['-c', '4', '-j', '2', '-T', String(lagSeconds)];
    for (let run = 0; run < runs; run++) {
      for (const contender of rotated(restorers, run)) {
        log(`WAL archiving lag ${run + 1}/${runs}: ${contender}`);
        push(result.lag, contender, await runArchiveLag(v, contender, pgbenchArgs));
      }
    }

    const tps = Number(/tps = ([\d.]+)/.exec(loadOutput)?.[1] ?? Number.NaN).toFixed(0);
    return {
      name: 'vs-pgbackrest',
      title: 'Lifeboat vs pgBackRest',
      setup: [
        `one cluster: initdb; pgbench -i -q -s ${scale} (database ${fmtMB(sizeBytes)} MB); VACUUM FREEZE; CHECKPOINT; settings: harness defaults + ${Object.entries(BENCH_PG_SETTINGS).map(([name, value]) => `${name}=${value}`).join(', ')}, archive_mode=on`,
        `both tools: zstd level 3, encryption on, fs repository in a temp dir; runs alternate (order rotated each run), ${runs} per contender and operation, medians`,
        'Lifeboat: the `lifeboat` CLI as separate processes (product defaults, local key); `wal archive` in the background during the backups and the load (stopped while restoring: the source is idle then); `backup full`; `restore --latest|--to-time T --start`, timed until `select count(*) from pgbench_accounts` answers',
        `${await pgbackrestVersion()} (Debian package): as the postgres OS user, own config file, repo1-cipher-type=aes-256-cbc (passphrase in the 0600 config), compress-type=zst level 3, process-max=${availableParallelism()}, start-fast=y; archive_command = archive-push; \`backup --type=full\`; \`restore [--type=time --target=T --target-action=promote] --archive-mode=off\`, then pg_ctl start, polled every 100 ms until promoted, then the same count query`,
        'pgBackRest async: the same with archive-async=y and a spool path (archive-get prefetches in a background process; archive-push queues)',
        `WAL for the restores: pgbench -c 4 -j 2 -T ${loadSeconds} after the last backups (${tps} tps), then pg_switch_wal(), archived by both; PITR target ${pitrTarget.time} (the middle of the load)`,
        `archiving lag: pgbench -c 4 -j 2 -T ${lagSeconds} with one archiver at a time (archive_command paused with '' for Lifeboat's runs, Lifeboat's archiver stopped for pgBackRest's), after it caught up; lag = server LSN - end of the newest complete segment stored, sampled every 500 ms`,
      ],
      tables: formatVersusTables(result),
      notes: [`WAL written by the load the restores replay: ${fmtMB(loadWalBytes)} MB (${Math.ceil(loadWalBytes / v.segmentSizeBytes)} segments from ${firstRow!.name})`],
      data: { scale, runs, loadSeconds, loadWalBytes, lagSeconds, pitrTarget: pitrTarget.time, processMax: pgbackrest.processMax, ...result },
    };
  } finally {
    await lifeboat.stopArchiver().catch(() => undefined);
    fixture.cleanup();
    await pg.stop();
  }
}
