// Case 7, archiver-soak: the daemon-run WAL archiver over time. Two daemons with the `archive` role (and every job
// kind, none due) serve one cluster on a real Redis; under `pgbench -c 4` for 10 minutes (1 with --quick) the RSS of
// the elected archiver process and of each daemon is sampled (start, peak, end and trend: a process that runs for
// months must not grow), with the archive lag and Prometheus-like scrapes of both daemons' /metrics; then, still
// under load, the holder's daemon is SIGKILLed a few times and the takeover timed until the other daemon's receiver
// streams (pg_replication_slots.active_pid names a new walsender).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { readArchiverStatus } from '../../src/jobs/read-archiver-status.js';
import { archiverLeaseKey } from '../../src/jobs/redis-keys.js';
import { startDaemon, writeDaemonConfig, type DaemonProcess } from '../../tests/harness/daemon-runner.js';
import type { LifeboatFixture } from '../../tests/harness/lifeboat-fixture.js';
import type { PostgresServer } from '../../tests/harness/postgres.js';
import { killProcessTreeSync, waitForProcessesGone } from '../../tests/harness/process-tree.js';
import { startRedis } from '../../tests/harness/redis.js';
import { waitFor } from '../../tests/harness/wait-for.js';
import type { BenchContext } from '../bench-context.js';
import { BENCH_PG_SETTINGS, createBenchFixture, runPgbench, startBenchPostgres } from '../data/bench-postgres.js';
import { readProcUsage } from '../measure/read-proc-usage.js';
import { median } from '../measure/summarize-runs.js';
import { percentile, slopePerHour } from '../measure/sample-stats.js';
import { fmt, fmtMB, type CaseResult } from '../report/case-report.js';

const PREFIX = 'lbsoak';
const SLOT = 'lifeboat';
/** The product default, written out so the takeover target below is computed from it. */
const LEASE_SECONDS = 15;
const SAMPLE_MS = 5_000;
/** Every third sample, as a Prometheus scraping every 15 s would. */
const SCRAPE_EVERY_SAMPLES = 3;
const TAKEOVERS = 3;
const TARGET_ARCHIVER_BYTES = 120e6;
const TARGET_DAEMON_BYTES = 150e6;
const TARGET_TAKEOVER_SECONDS = LEASE_SECONDS + 10;
/** Never due during the case, so the daemons only wait for jobs; the schedulers still exist. */
const SCHEDULES = { full: '0 3 1 1 *', diff: '10 3 1 1 *', incr: '20 3 1 1 *', verify: '30 3 1 1 *' };
/** The first share of the samples is warm-up (buffers and caches filling), left out of the trend. */
const WARM_UP_SHARE = 0.2;

interface Sample {
  atMs: number;
  rssBytes: number;
  peakRssBytes: number;
}

interface Soak {
  seconds: number;
  archiver: Sample[];
  archiverPids: number[];
  daemons: Record<string, Sample[]>;
  lagBytes: number[];
  lagSeconds: number[];
  walsenderChanges: number;
  holderChanges: number;
  scrapes: number;
  scrapesAgreeing: number;
  walProducedBytes: number;
  pgbenchOutput: string;
}

class SoakCluster {
  readonly daemons: DaemonProcess[] = [];
  readonly configs = new Map<string, string>();

  constructor(
    readonly pg: PostgresServer,
    readonly fixture: LifeboatFixture,
    readonly redis: Redis,
    readonly redisUrl: string,
  ) {}

  async startDaemon(name: string): Promise<DaemonProcess> {
    let configPath = this.configs.get(name);
    if (configPath === undefined) {
      configPath = writeDaemonConfig(this.fixture, name, {
        top: {
          redis: { url: this.redisUrl, prefix: PREFIX },
          daemon: { listen: '127.0.0.1:0', jobs: ['full', 'diff', 'incr', 'verify', 'archive'], archiverLeaseSeconds: LEASE_SECONDS },
        },
        cluster: { schedules: SCHEDULES },
      });
      this.configs.set(name, configPath);
    }
    const daemon = startDaemon(this.fixture, name, configPath, { LIFEBOAT_LOG_LEVEL: 'info' });
    await daemon.waitForLine('daemon ready', (line) => line.msg === 'daemon ready', 120_000);
    const index = this.daemons.findIndex((d) => d.name === name);
    if (index >= 0) this.daemons[index] = daemon;
    else this.daemons.push(daemon);
    return daemon;
  }

  daemonId(daemon: DaemonProcess): string {
    return String(daemon.lines.find((line) => line.msg === 'daemon ready')?.daemonId);
  }

  async holder(): Promise<DaemonProcess | undefined> {
    const id = await this.redis.get(archiverLeaseKey(PREFIX, 'main'));
    return this.daemons.find((d) => this.daemonId(d) === id);
  }

  /** The pid of the newest archiver process `daemon` forked. */
  archiverPid(daemon: DaemonProcess): number | undefined {
    return daemon.lines.findLast((line) => line.msg === 'WAL archiver process forked')?.pid as number | undefined;
  }

  async activeWalsender(): Promise<number | null> {
    const [row] = await this.pg.query<{ active_pid: number | null }>('select active_pid from pg_replication_slots where slot_name = $1', [SLOT]);
    return row?.active_pid ?? null;
  }

  async walLsnBytes(): Promise<number> {
    const [row] = await this.pg.query<{ bytes: string }>("select pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text as bytes");
    return Number(row!.bytes);
  }

  /** The lease holder each daemon's /metrics names (undefined for a daemon that did not answer). */
  async scrapedHolders(): Promise<(string | undefined)[]> {
    return Promise.all(
      this.daemons.map(async (daemon) => {
        const listen = daemon.lines.find((line) => line.msg === 'daemon ready')?.listen as string;
        const text = await fetch(`http://${listen}/metrics`, { signal: AbortSignal.timeout(10_000) }).then((r) => r.text()).catch(() => undefined);
        return text === undefined ? undefined : (/^lifeboat_wal_archiver_lease_holder\{cluster="main",holder="([^"]*)"\} 1$/m.exec(text)?.[1] ?? '');
      }),
    );
  }
}

/** pgbench -c 4 as the superuser, for `seconds` (it is killed earlier when the phase ends first). */
function startLoad(pg: PostgresServer, seconds: number): { child: ChildProcess; done: Promise<string> } {
  const child = spawn(join(pg.bindir, 'pgbench'), ['-h', pg.host, '-p', String(pg.port), '-U', pg.superuser.user, '-c', '4', '-j', '2', '-T', String(seconds), 'postgres'], {
    env: { ...process.env, PGPASSWORD: pg.superuser.password },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', () => undefined);
  return { child, done: new Promise((resolve) => child.once('exit', () => resolve(output))) };
}

function sampleOf(pid: number | undefined): Sample | undefined {
  const usage = pid === undefined ? undefined : readProcUsage(pid);
  return usage && { atMs: Date.now(), rssBytes: usage.rssBytes, peakRssBytes: usage.peakRssBytes };
}

async function soak(cluster: SoakCluster, seconds: number, log: (message: string) => void): Promise<Soak> {
  const result: Soak = { seconds: 0, archiver: [], archiverPids: [], daemons: {}, lagBytes: [], lagSeconds: [], walsenderChanges: 0, holderChanges: 0, scrapes: 0, scrapesAgreeing: 0, walProducedBytes: 0, pgbenchOutput: '' };
  const walBefore = await cluster.walLsnBytes();
  const load = startLoad(cluster.pg, seconds);
  const started = Date.now();
  let lastWalsender = await cluster.activeWalsender();
  let lastHolder = await cluster.holder();
  for (let round = 0; Date.now() - started < seconds * 1000; round++) {
    const holder = await cluster.holder();
    if (holder !== lastHolder) result.holderChanges += 1;
    lastHolder = holder;
    const archiverPid = holder && cluster.archiverPid(holder);
    const archiver = sampleOf(archiverPid);
    if (archiver && archiverPid !== undefined) {
      result.archiver.push(archiver);
      if (!result.archiverPids.includes(archiverPid)) result.archiverPids.push(archiverPid);
    }
    for (const daemon of cluster.daemons) {
      const sample = sampleOf(daemon.pid);
      if (sample) (result.daemons[daemon.name] ??= []).push(sample);
    }
    const walsender = await cluster.activeWalsender();
    if (walsender !== lastWalsender) result.walsenderChanges += 1;
    lastWalsender = walsender;
    const status = await readArchiverStatus(cluster.redis, PREFIX, 'main');
    // A state published more than two renewals ago is not this moment's lag.
    if (status.publishedAt && Date.now() - Date.parse(status.publishedAt) < (LEASE_SECONDS * 1000 * 2) / 3 + 1000) {
      if (status.lagBytes !== undefined) result.lagBytes.push(status.lagBytes);
      if (status.lagSeconds !== undefined) result.lagSeconds.push(status.lagSeconds);
    }
    if (round % SCRAPE_EVERY_SAMPLES === 0) {
      const holders = await cluster.scrapedHolders();
      result.scrapes += 1;
      if (holders.every((h) => h !== undefined && h !== '' && h === holders[0])) result.scrapesAgreeing += 1;
    }
    if (round % 12 === 0) log(`soak ${Math.round((Date.now() - started) / 1000)} s: archiver RSS ${fmtMB(archiver?.rssBytes)} MB, lag ${fmtMB(result.lagBytes.at(-1))} MB`);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(SAMPLE_MS, seconds * 1000 - (Date.now() - started)))));
  }
  result.pgbenchOutput = await load.done;
  result.seconds = (Date.now() - started) / 1000;
  result.walProducedBytes = (await cluster.walLsnBytes()) - walBefore;
  return result;
}

/** SIGKILL of the holder's daemon until the other daemon's receiver streams; the killed daemon is started again. */
async function measureTakeover(cluster: SoakCluster, log: (message: string) => void): Promise<number> {
  const holder = await waitFor('a lease holder whose receiver streams', async () => {
    const daemon = await cluster.holder();
    return daemon && (await cluster.activeWalsender()) !== null ? daemon : undefined;
  }, { timeoutMs: 120_000, intervalMs: 200 });
  const oldWalsender = await cluster.activeWalsender();
  const oldArchiver = cluster.archiverPid(holder);
  const killedAt = Date.now();
  holder.child.kill('SIGKILL');
  const tookOverAt = await waitFor('the other daemon streaming on the slot', async () => {
    const now = Date.now();
    const daemon = await cluster.holder();
    const walsender = await cluster.activeWalsender();
    return daemon && daemon !== holder && walsender !== null && walsender !== oldWalsender ? now : undefined;
  }, { timeoutMs: (LEASE_SECONDS + 120) * 1000, intervalMs: 100 });
  const seconds = (tookOverAt - killedAt) / 1000;
  log(`takeover from ${holder.name}: ${fmt(seconds, 1)} s`);
  // The killed daemon's archiver stops by itself (its IPC channel closed); then the daemon comes back as standby.
  await holder.exited;
  if (oldArchiver !== undefined) await waitForProcessesGone([oldArchiver], 120_000);
  await cluster.startDaemon(holder.name);
  return seconds;
}

function memoryRow(name: string, samples: readonly Sample[], targetBytes: number): { row: string[]; pass: boolean } {
  const peak = Math.max(...samples.map((s) => s.peakRssBytes));
  const trend = slopePerHour(samples.slice(Math.floor(samples.length * WARM_UP_SHARE)).map((s) => ({ atMs: s.atMs, value: s.rssBytes })));
  const pass = samples.length > 0 && peak < targetBytes;
  return { row: [name, fmtMB(samples[0]?.rssBytes), fmtMB(Math.max(...samples.map((s) => s.rssBytes))), fmtMB(peak), fmtMB(samples.at(-1)?.rssBytes), fmt(trend / 1e6, 1), `< ${fmtMB(targetBytes)}`, pass ? 'pass' : 'FAIL'], pass };
}

export async function runArchiverSoakCase(ctx: BenchContext): Promise<CaseResult> {
  const soakSeconds = ctx.quick ? 60 : 600;
  const scale = ctx.quick ? 5 : 20;
  const log = (message: string): void => ctx.log(`archiver-soak: ${message}`);
  log(`pgbench -i -s ${scale}`);
  const [pg, redisServer] = await Promise.all([startBenchPostgres(), startRedis()]);
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
  const fixture = createBenchFixture(pg);
  const cluster = new SoakCluster(pg, fixture, redis, redisServer.url);
  let takeoverLoad: { child: ChildProcess; done: Promise<string> } | undefined;
  try {
    await runPgbench(pg, ['-i', '-q', '-s', String(scale)]);
    await Promise.all([cluster.startDaemon('a'), cluster.startDaemon('b')]);
    await waitFor('a daemon archiving', async () => ((await cluster.holder()) && (await cluster.activeWalsender()) !== null) || undefined, { timeoutMs: 120_000, intervalMs: 200 });
    log(`soak for ${soakSeconds} s under pgbench -c 4`);
    const measured = await soak(cluster, soakSeconds, log);
    log(`${TAKEOVERS} takeovers under load`);
    takeoverLoad = startLoad(pg, 3600);
    const takeovers: number[] = [];
    for (let i = 0; i < TAKEOVERS; i++) takeovers.push(await measureTakeover(cluster, log));

    const archiver = memoryRow('archiver process (the holder\'s child)', measured.archiver, TARGET_ARCHIVER_BYTES);
    const daemons = Object.entries(measured.daemons).sort(([a], [b]) => a.localeCompare(b)).map(([name, samples]) => memoryRow(`daemon ${name}`, samples, TARGET_DAEMON_BYTES));
    const takeoverPass = takeovers.every((s) => s <= TARGET_TAKEOVER_SECONDS);
    const tps = Number(/tps = ([\d.]+)/.exec(measured.pgbenchOutput)?.[1]);
    const lagRow = (what: string, values: readonly number[], format: (v: number) => string): string[] => [what, format(median(values)), format(percentile(values, 95)), format(Math.max(...values)), String(values.length)];
    return {
      name: 'archiver-soak',
      title: 'Daemon-run WAL archiver: memory over time, lag, takeover',
      setup: [
        `two \`lifeboat daemon\`s with daemon.jobs full, diff, incr, verify and archive (schedules never due), one cluster, local Redis, fs repository, zstd 3, local key, product WAL defaults; archiverLeaseSeconds ${LEASE_SECONDS}`,
        `initdb with ${Object.entries(BENCH_PG_SETTINGS).map(([name, value]) => `${name}=${value}`).join(', ')}; pgbench -i -q -s ${scale}; then pgbench -c 4 -j 2 -T ${soakSeconds}`,
        `every ${SAMPLE_MS / 1000} s: VmRSS/VmHWM of the lease holder's archiver process and of each daemon (/proc), the archive lag the holder publishes in Redis, the slot's active walsender; every ${(SAMPLE_MS * SCRAPE_EVERY_SAMPLES) / 1000} s both daemons' /metrics are scraped`,
        `takeover: still under pgbench -c 4, SIGKILL of the holder's daemon (not its archiver: it stops by itself), timed until the lease names the other daemon and pg_replication_slots.active_pid a new walsender; the killed daemon is then started again as standby; ${TAKEOVERS} times`,
        'peak = VmHWM (the process\'s peak since it started, start-up included); trend = least-squares slope of VmRSS after the first 20 % of the samples',
      ],
      tables: [
        {
          title: `Memory during the ${Math.round(measured.seconds)} s soak (MB = 10^6 bytes)`,
          headers: ['process', 'RSS at start', 'max sampled RSS', 'peak (VmHWM)', 'RSS at end', 'trend MB/h', 'target', ''],
          rows: [archiver.row, ...daemons.map((d) => d.row)],
        },
        {
          title: 'Archive lag during the soak (as the holder published it)',
          headers: ['lag', 'median', 'p95', 'max', 'samples'],
          rows: [lagRow('bytes (MB)', measured.lagBytes, (v) => fmtMB(v)), lagRow('seconds', measured.lagSeconds, (v) => fmt(v, 1))],
        },
        {
          title: 'Takeover after SIGKILL of the holder\'s daemon, under load',
          headers: ['runs (s)', 'median s', 'max s', 'target', ''],
          rows: [[takeovers.map((s) => fmt(s, 1)).join(', '), fmt(median(takeovers), 1), fmt(Math.max(...takeovers), 1), `<= ${TARGET_TAKEOVER_SECONDS} (lease + 10 s)`, takeoverPass ? 'pass' : 'FAIL']],
        },
      ],
      notes: [
        `load: ${fmt(tps, 0)} tps, ${fmtMB(measured.walProducedBytes)} MB of WAL in ${fmt(measured.seconds, 0)} s (${fmt(measured.walProducedBytes / 1e6 / measured.seconds, 2)} MB/s)`,
        `during the soak: ${measured.archiverPids.length} archiver process(es) (${Math.max(0, measured.archiverPids.length - 1)} restart(s)), ${measured.holderChanges} lease holder change(s), ${measured.walsenderChanges} walsender change(s); both daemons' /metrics named the same lease holder in ${measured.scrapesAgreeing} of ${measured.scrapes} scrape rounds`,
        'timings are noisy when other work shares the CPU: see the load average',
        ...(ctx.quick ? ['--quick: one minute is too short for the trend column to tell growth from the ups and downs of shipping each segment; the 10-minute run is'] : []),
      ],
      data: { soakSeconds, scale, leaseSeconds: LEASE_SECONDS, soak: measured, takeovers, pass: { archiver: archiver.pass, daemons: daemons.map((d) => d.pass), takeover: takeoverPass } },
    };
  } finally {
    takeoverLoad?.child.kill('SIGKILL');
    await Promise.all(
      cluster.daemons.map(async (daemon) => {
        daemon.child.kill('SIGTERM');
        const stopped = await Promise.race([daemon.exited.then(() => true), new Promise<false>((resolve) => setTimeout(() => resolve(false), 60_000))]);
        if (!stopped) killProcessTreeSync(daemon.pid, 'SIGKILL');
      }),
    );
    redis.disconnect();
    await Promise.all([pg.stop(), redisServer.stop()]);
    fixture.cleanup();
  }
}
