// Case replay-tuning: which reloadable PostgreSQL settings speed up the archive recovery of a Lifeboat restore.
// One restore (--latest, not started) of a pgbench database with ~60 segments of WAL is kept as a template; each
// run copies it, adds one setting to postgresql.auto.conf, starts the server and times it until promoted. In three
// modes: the restore's own restore_command (`lifeboat wal fetch`, a Node start per segment); a plain `cp` of the
// same segments (a fetch that costs nothing, so the effect on replay itself is not hidden by the fetch); and that
// `cp` with the data files dropped from the page cache, as on a host whose RAM does not hold the database.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../tests/harness/free-port.js';
import { startPostgres } from '../../tests/harness/postgres.js';
import type { BenchContext } from '../bench-context.js';
import { createBenchFixture, databaseSizeBytes, runPgbench } from '../data/bench-postgres.js';
import { runInChild } from '../measure/run-in-child.js';
import { median } from '../measure/summarize-runs.js';
import { fmt, fmtMB, type CaseResult } from '../report/case-report.js';
import { createLifeboatCommands } from '../versus/lifeboat-commands.js';
import { discardRestored, startUntilPromoted } from '../versus/restored-server.js';

/** The settings tried, one at a time, on top of what the restored server was backed up with (PostgreSQL's defaults). */
const VARIANTS: readonly { name: string; settings: Record<string, string> }[] = [
  { name: 'as backed up', settings: {} },
  { name: 'max_wal_size=64GB', settings: { max_wal_size: '64GB' } },
  { name: 'checkpoint_timeout=1d', settings: { checkpoint_timeout: '1d' } },
  { name: 'recovery_prefetch=off', settings: { recovery_prefetch: 'off' } },
  { name: 'maintenance_io_concurrency=100', settings: { maintenance_io_concurrency: '100' } },
  { name: 'bgwriter_lru_maxpages=1000, bgwriter_delay=10ms', settings: { bgwriter_lru_maxpages: '1000', bgwriter_delay: '10ms' } },
];

/**
 * How the run fetches WAL and finds the data files: the restore's own restore_command; a plain cp (replay alone);
 * and a plain cp with the restored data files evicted from the page cache first, as on a host whose RAM does not
 * hold the database (recovery_prefetch exists for that case).
 */
type Mode = 'lifeboat wal fetch' | 'cp' | 'cp, data files not cached';

interface ReplayRun {
  /** Which pass over the variants (each pass runs every variant once, back to back). */
  pass: number;
  mode: Mode;
  variant: string;
  /** From pg_ctl start until the server was out of recovery. */
  seconds: number;
  /** "redo done ... elapsed: X s" from the server log. */
  redoSeconds: number;
  /** CPU of the startup process during redo (user + system), from the same line. */
  redoCpuSeconds: number;
  restartpoints: number;
  /** The end-of-recovery checkpoint PostgreSQL waits for before it leaves recovery: buffers written, total seconds. */
  endCheckpoint: { buffers: number; seconds: number };
}

/** The figures PostgreSQL logs about a recovery (log_checkpoints is on by default since 15). */
function parseRecoveryLog(serverLog: string): Pick<ReplayRun, 'redoSeconds' | 'redoCpuSeconds' | 'restartpoints' | 'endCheckpoint'> {
  const redo = /redo done at .*CPU: user: ([\d.]+) s, system: ([\d.]+) s, elapsed: ([\d.]+) s/.exec(serverLog);
  const afterEnd = serverLog.slice(Math.max(0, serverLog.indexOf('checkpoint starting: end-of-recovery')));
  const end = /checkpoint complete: wrote (\d+) buffers.*total=([\d.]+) s/.exec(afterEnd);
  return {
    redoSeconds: Number(redo?.[3] ?? Number.NaN),
    redoCpuSeconds: Number(redo?.[1] ?? Number.NaN) + Number(redo?.[2] ?? Number.NaN),
    restartpoints: (serverLog.match(/restartpoint complete/g) ?? []).length,
    endCheckpoint: { buffers: Number(end?.[1] ?? Number.NaN), seconds: Number(end?.[2] ?? Number.NaN) },
  };
}

function rotated<T>(list: readonly T[], run: number): T[] {
  const shift = run % list.length;
  return [...list.slice(shift), ...list.slice(0, shift)];
}

function copyTree(from: string, to: string): void {
  execFileSync('cp', ['-a', from, to]);
}

/** Drops `dir`'s files from the page cache (written back first; GNU dd's nocache with count=0 drops a whole file). */
function evictFromPageCache(dir: string): void {
  execFileSync('sync', ['-f', dir]);
  execFileSync('sh', ['-c', 'find "$1" -type f -exec sh -c \'for f; do dd if="$f" iflag=nocache count=0 status=none; done\' sh {} +', 'sh', dir]);
}

export async function runReplayTuningCase(ctx: BenchContext): Promise<CaseResult> {
  const scale = ctx.quick ? 10 : 100;
  // A fixed number of transactions rather than a fixed time: the WAL to replay (~60 segments in a full run, enough
  // for restartpoints at the default max_wal_size) must not shrink when other work slows pgbench down.
  const transactionsPerClient = ctx.quick ? 1000 : 25_000;
  const runs = ctx.quick ? 1 : 5;
  const log = (message: string): void => ctx.log(`replay-tuning: ${message}`);
  const base = join(ctx.workDir, 'replay');
  mkdirSync(base, { mode: 0o755 });
  const dataDir = join(base, 'data');
  const workDir = `${dataDir}.lifeboat-restore`;
  const templateData = join(base, 'template-data');
  const templateWork = join(base, 'template-work');
  const walCopy = join(base, 'wal');
  let sizeBytes = 0;
  let segments = 0;
  let bindir = '';
  let port = 0;

  // 1. The template: a restore of the latest point, fetched and armed but not started, its WAL prefetched.
  const pg = await startPostgres();
  const fixture = createBenchFixture(pg, { partialUploadIntervalSeconds: 10 });
  try {
    bindir = pg.bindir;
    log(`pgbench -i -s ${scale}; full backup; pgbench -c 4 -t ${transactionsPerClient} archived`);
    await runPgbench(pg, ['-i', '-q', '-s', String(scale)]);
    sizeBytes = await databaseSizeBytes(pg);
    const env = { FIXTURE_PGPASSWORD: pg.lifeboat.password };
    await runInChild('full-backup', { configPath: fixture.configPath, env });
    await runInChild('wal-archive', {
      configPath: fixture.configPath,
      env,
      superuser: { host: pg.host, port: pg.port, user: pg.superuser.user, password: pg.superuser.password },
      pgbenchPath: join(pg.bindir, 'pgbench'),
      pgbenchArgs: ['-c', '4', '-j', '2', '-t', String(transactionsPerClient)],
      drainTimeoutSeconds: 180,
    });
    await pg.stop();
    execFileSync('chmod', ['go+x', fixture.dir]);
    execFileSync('chmod', ['-R', 'go+rX', join(fixture.dir, 'repo')]);
    port = await freePort();
    log('restore --latest (not started)');
    await createLifeboatCommands(fixture, pg.lifeboat.password).run(['restore', '--latest', '--target-dir', dataDir, '--port', String(port)]);
    renameSync(dataDir, templateData);
    renameSync(workDir, templateWork);
    copyTree(join(templateWork, 'prefetch'), walCopy);
    segments = readdirSync(walCopy).filter((name) => /^[0-9A-F]{24}$/.test(name)).length;

    // 2. Every variant in every mode, alternating, the order rotated each pass.
    const results: ReplayRun[] = [];
    const modes: Mode[] = ['lifeboat wal fetch', 'cp', 'cp, data files not cached'];
    for (let run = 0; run < runs; run++) {
      for (const mode of modes) {
        for (const variant of rotated(VARIANTS, run)) {
          log(`run ${run + 1}/${runs}: ${mode}, ${variant.name}`);
          copyTree(templateData, dataDir);
          copyTree(templateWork, workDir);
          const autoConf = join(dataDir, 'postgresql.auto.conf');
          if (mode !== 'lifeboat wal fetch') {
            const text = readFileSync(autoConf, 'utf8').replace(/^restore_command = .*$/m, `restore_command = 'cp ${walCopy}/%f "%p"'`);
            writeFileSync(autoConf, text);
          }
          appendFileSync(autoConf, Object.entries(variant.settings).map(([name, value]) => `${name} = '${value}'\n`).join(''));
          if (mode === 'cp, data files not cached') evictFromPageCache(dataDir);
          const logFile = join(workDir, 'postgres.log');
          const server = { bindir, dataDir, port, socketDir: workDir };
          const started = performance.now();
          try {
            await startUntilPromoted(server, logFile, 3_600_000);
            const seconds = (performance.now() - started) / 1000;
            results.push({ pass: run, mode, variant: variant.name, seconds, ...parseRecoveryLog(readFileSync(logFile, 'utf8')) });
          } finally {
            await discardRestored(server, dataDir);
            execFileSync('rm', ['-rf', workDir]);
          }
        }
      }
    }

    // 3. Medians per mode and variant, against the configuration as backed up.
    const rows = modes.flatMap((mode) => {
      const of = (variant: string): ReplayRun[] => results.filter((one) => one.mode === mode && one.variant === variant);
      const baseline = of(VARIANTS[0]!.name);
      return VARIANTS.map((variant) => {
        const list = of(variant.name);
        // Against the baseline of the same pass, minutes apart at most: the host's load drifts more than that.
        const paired = median(list.map((one) => one.seconds / baseline.find((base) => base.pass === one.pass)!.seconds));
        return [
          mode,
          variant.name,
          fmt(median(list.map((one) => one.seconds)), 1),
          `${paired.toFixed(2)}x`,
          list.map((one) => one.seconds.toFixed(1)).join(' / '),
          fmt(median(list.map((one) => one.redoSeconds)), 1),
          fmt(median(list.map((one) => one.redoCpuSeconds)), 1),
          fmt(median(list.map((one) => one.restartpoints)), 0),
          fmt(median(list.map((one) => one.endCheckpoint.buffers)), 0),
          fmt(median(list.map((one) => one.endCheckpoint.seconds)), 1),
        ];
      });
    });
    return {
      name: 'replay-tuning',
      title: 'Replay tuning: reloadable settings during archive recovery',
      setup: [
        `source: initdb with PostgreSQL's defaults (max_wal_size 1GB, checkpoint_timeout 5min, shared_buffers 128MB, recovery_prefetch try, maintenance_io_concurrency 10); pgbench -i -q -s ${scale} (database ${fmtMB(sizeBytes)} MB); full backup; pgbench -c 4 -j 2 -t ${transactionsPerClient} archived`,
        `template: \`lifeboat restore --latest\` without --start (base fetched, recovery armed, ${segments} WAL segments prefetched); each run copies it, appends the setting to postgresql.auto.conf, pg_ctl start, polled every 100 ms until out of recovery`,
        'restore_command: the restore\'s own (`lifeboat wal fetch`, serving prefetched segments), or `cp <folder of the same segments>/%f "%p"` (replay alone); "data files not cached": the copied data directory written back and dropped from the page cache (`dd iflag=nocache count=0` per file) before the start',
        `${runs} pass(es) per mode, each running every setting once back to back, the order rotated each pass; median seconds, and the median over passes of the ratio to "as backed up" in the same pass`,
      ],
      tables: [{ title: 'Start until promoted (seconds)', headers: ['mode', 'setting', 'median s', 'vs as backed up (paired)', 'runs (s)', 'redo elapsed s', 'redo CPU s', 'restartpoints', 'end checkpoint buffers', 'end checkpoint s'], rows }],
      notes: [],
      data: { scale, transactionsPerClient, segments, runs: results },
    };
  } finally {
    fixture.cleanup();
    await pg.stop();
  }
}
