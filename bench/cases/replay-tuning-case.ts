// Case replay-tuning: which reloadable PostgreSQL settings speed up the archive recovery of a Lifeboat restore.
// One restore (--latest, not started) of a pgbench database with ~60 segments of WAL is kept as a template; each
// run copies it, adds one setting to postgresql.auto.conf, starts the server and times it until promoted. Twice:
// with the restore's own restore_command (`lifeboat wal fetch`, a Node start per segment) and with a plain `cp`
// of the same segments (a fetch that costs nothing), so the effect on replay itself is not hidden by the fetch.
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

type Fetcher = 'lifeboat wal fetch' | 'cp';

interface ReplayRun {
  fetcher: Fetcher;
  variant: string;
  /** From pg_ctl start until the server was out of recovery. */
  seconds: number;
  /** "redo done ... elapsed: X s" from the server log. */
  redoSeconds: number;
  restartpoints: number;
}

function rotated<T>(list: readonly T[], run: number): T[] {
  const shift = run % list.length;
  return [...list.slice(shift), ...list.slice(0, shift)];
}

function copyTree(from: string, to: string): void {
  execFileSync('cp', ['-a', from, to]);
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

    // 2. Every variant with both fetchers, alternating, the order rotated each run.
    const results: ReplayRun[] = [];
    const fetchers: Fetcher[] = ['lifeboat wal fetch', 'cp'];
    for (let run = 0; run < runs; run++) {
      for (const fetcher of fetchers) {
        for (const variant of rotated(VARIANTS, run)) {
          log(`run ${run + 1}/${runs}: ${fetcher}, ${variant.name}`);
          copyTree(templateData, dataDir);
          copyTree(templateWork, workDir);
          const autoConf = join(dataDir, 'postgresql.auto.conf');
          if (fetcher === 'cp') {
            const text = readFileSync(autoConf, 'utf8').replace(/^restore_command = .*$/m, `restore_command = 'cp ${walCopy}/%f "%p"'`);
            writeFileSync(autoConf, text);
          }
          appendFileSync(autoConf, Object.entries(variant.settings).map(([name, value]) => `${name} = '${value}'\n`).join(''));
          const logFile = join(workDir, 'postgres.log');
          const server = { bindir, dataDir, port, socketDir: workDir };
          const started = performance.now();
          try {
            await startUntilPromoted(server, logFile, 3_600_000);
            const seconds = (performance.now() - started) / 1000;
            const serverLog = readFileSync(logFile, 'utf8');
            const redoSeconds = Number(/redo done at .*elapsed: ([\d.]+) s/.exec(serverLog)?.[1] ?? Number.NaN);
            results.push({ fetcher, variant: variant.name, seconds, redoSeconds, restartpoints: (serverLog.match(/restartpoint complete/g) ?? []).length });
          } finally {
            await discardRestored(server, dataDir);
            execFileSync('rm', ['-rf', workDir]);
          }
        }
      }
    }

    // 3. Medians per fetcher and variant, against the configuration as backed up.
    const rows = fetchers.flatMap((fetcher) => {
      const of = (variant: string): ReplayRun[] => results.filter((one) => one.fetcher === fetcher && one.variant === variant);
      const baseline = median(of(VARIANTS[0]!.name).map((one) => one.seconds));
      return VARIANTS.map((variant) => {
        const list = of(variant.name);
        const seconds = median(list.map((one) => one.seconds));
        return [
          fetcher,
          variant.name,
          fmt(seconds, 1),
          `${(seconds / baseline).toFixed(2)}x`,
          list.map((one) => one.seconds.toFixed(1)).join(' / '),
          fmt(median(list.map((one) => one.redoSeconds)), 1),
          fmt(median(list.map((one) => one.restartpoints)), 0),
        ];
      });
    });
    return {
      name: 'replay-tuning',
      title: 'Replay tuning: reloadable settings during archive recovery',
      setup: [
        `source: initdb with PostgreSQL's defaults (max_wal_size 1GB, checkpoint_timeout 5min, shared_buffers 128MB, recovery_prefetch try, maintenance_io_concurrency 10); pgbench -i -q -s ${scale} (database ${fmtMB(sizeBytes)} MB); full backup; pgbench -c 4 -j 2 -t ${transactionsPerClient} archived`,
        `template: \`lifeboat restore --latest\` without --start (base fetched, recovery armed, ${segments} WAL segments prefetched); each run copies it, appends the setting to postgresql.auto.conf, pg_ctl start, polled every 100 ms until out of recovery`,
        'restore_command: the restore\'s own (`lifeboat wal fetch`, serving prefetched segments), or `cp <folder of the same segments>/%f "%p"` (replay alone)',
        `${runs} run(s) per fetcher and setting, alternating, the order rotated each run; median seconds and ratio to "as backed up"`,
      ],
      tables: [{ title: 'Start until promoted (seconds)', headers: ['restore_command', 'setting', 'median s', 'vs as backed up', 'runs (s)', 'redo elapsed s', 'restartpoints'], rows }],
      notes: [],
      data: { scale, transactionsPerClient, segments, runs: results },
    };
  } finally {
    fixture.cleanup();
    await pg.stop();
  }
}
