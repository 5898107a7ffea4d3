// /metrics of a real daemon against a repository holding a full backup: the exposition passes
// `promtool check metrics`, the catalog-derived series equal the catalog (last full backup's end and duration,
// bytes read from PostgreSQL and stored, recoverable window), job counters move when the daemon runs a job, the
// archiver-derived series carry the daemon as `holder`, the archiver lease's holder is read from Redis, and no
// configured secret appears in it.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFullBackup } from '../../src/backup/full/run-full-backup.js';
import { storeArchiverState } from '../../src/backup/wal-archive/archiver-state.js';
import { createLogger } from '../../src/log/index.js';
import { archiverLeaseKey } from '../../src/jobs/redis-keys.js';
import { walBytesCovered } from '../../src/metrics/read-cluster-facts.js';
import { loadBackupCatalog } from '../../src/repository/backup-catalog.js';
import { loadClusterIdentity } from '../../src/repository/cluster-identity.js';
import { listArchivedWal } from '../../src/repository/list-archived-wal.js';
import { openRepository, type Repository } from '../../src/repository/open-repository.js';
import { startDaemon, writeDaemonConfig, type DaemonProcess } from '../harness/daemon-runner.js';
import { runLifeboatCli } from '../harness/lifeboat-cli.js';
import { createLifeboatFixture, type LifeboatFixture } from '../harness/lifeboat-fixture.js';
import { startPostgres, type PostgresServer } from '../harness/postgres.js';
import { startRedis, type RedisServer } from '../harness/redis.js';
import { ensureCliBuilt, startInProcessArchiver, type InProcessArchiver } from '../harness/wal-archiver-runner.js';
import { parseMetricSamples } from '../harness/metrics-samples.js';
import { waitFor } from '../harness/wait-for.js';

const log = createLogger({ level: process.env.LIFEBOAT_TEST_LOG_LEVEL ?? 'warn' });
let pg: PostgresServer;
let redisServer: RedisServer;
let fixture: LifeboatFixture;
let repository: Repository;
let archiver: InProcessArchiver | undefined;
let daemon: DaemonProcess | undefined;
let url: string;

async function scrape(): Promise<{ text: string; contentType: string }> {
  const response = await fetch(`${url}/metrics`);
  expect(response.status).toBe(200);
  return { text: await response.text(), contentType: response.headers.get('content-type') ?? '' };
}

beforeAll(async () => {
  const ensured = spawnSync('bash', ['scripts/ensure-promtool.sh'], { encoding: 'utf8' });
  if (ensured.status !== 0) throw new Error(`promtool is missing and cannot be installed:\n${ensured.stderr}`);
  ensureCliBuilt();
  [pg, redisServer] = await Promise.all([startPostgres(), startRedis()]);
  fixture = createLifeboatFixture(pg);
  repository = await openRepository(fixture.config, 'write');
  archiver = startInProcessArchiver({ fixture, storage: repository.storage, keys: repository.keys, log });
  await runFullBackup({ config: fixture.config, cluster: fixture.config.clusters[0]!, storage: repository.storage, keys: repository.keys, log, signal: AbortSignal.timeout(120_000), lifeboatVersion: 'test' });
  const configPath = writeDaemonConfig(fixture, 'm1', { top: { redis: { url: redisServer.url, prefix: 'lbmetrics' }, daemon: { listen: '127.0.0.1:0', lockLeaseSeconds: 4 } }, cluster: { schedules: {} } });
  daemon = startDaemon(fixture, 'm1', configPath);
  const ready = await daemon.waitForLine('ready', (line) => line.msg === 'daemon ready');
  url = `http://${ready.listen as string}`;
}, 240_000);

afterAll(async () => {
  daemon?.child.kill('SIGKILL');
  await archiver?.stop().catch(() => undefined);
  repository?.close();
  await Promise.all([pg?.stop(), redisServer?.stop()]);
  fixture?.cleanup();
});

describe('daemon /metrics', () => {
  it('passes promtool check metrics and reports the catalog, with no secret', async () => {
    // The WAL the repository covers grows while the archiver ships: the scrape's value lies between two listings.
    const identity = (await loadClusterIdentity(repository.storage, 'main'))!;
    const walCovered = async (): Promise<number> => walBytesCovered(await listArchivedWal(repository.storage, 'main'), identity.walSegmentSizeBytes);
    const walBefore = await walCovered();
    const { text, contentType } = await scrape();
    const walAfter = await walCovered();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(check.status, `${check.stdout}${check.stderr}`).toBe(0);

    const values = parseMetricSamples(text);
    const catalog = await loadBackupCatalog(repository.storage, 'main');
    const full = catalog.filter((m) => m.type === 'full').at(-1)!;
    expect(values.get('lifeboat_catalog_up{cluster="main"}')).toBe(1);
    expect(values.get('lifeboat_last_success_timestamp_seconds{cluster="main",kind="full"}')).toBe(Date.parse(full.stopTime) / 1000);
    expect(values.get('lifeboat_last_success_duration_seconds{cluster="main",kind="full"}')).toBeCloseTo((Date.parse(full.stopTime) - Date.parse(full.startTime)) / 1000, 3);
    expect(values.get('lifeboat_backups{cluster="main",kind="full"}')).toBe(catalog.filter((m) => m.type === 'full').length);
    expect(values.get('lifeboat_stored_bytes{cluster="main",kind="full"}')).toBeGreaterThan(1_000_000);
    expect(values.get('lifeboat_stored_bytes{cluster="main",kind="wal"}')).toBeGreaterThan(0);
    // Read from PostgreSQL: the base backups' tar streams, and the WAL the archived objects cover.
    const fulls = catalog.filter((m) => m.type === 'full');
    expect(values.get('lifeboat_read_bytes{cluster="main",kind="full"}')).toBe(fulls.reduce((sum, m) => sum + m.tarSizeBytes, 0));
    const walRead = values.get('lifeboat_read_bytes{cluster="main",kind="wal"}')!;
    expect(walBefore).toBeGreaterThan(0);
    expect(walRead).toBeGreaterThanOrEqual(walBefore);
    expect(walRead).toBeLessThanOrEqual(walAfter);
    expect(values.has('lifeboat_read_bytes{cluster="main",kind="incr"}')).toBe(false);
    const earliest = values.get('lifeboat_recoverable_window_earliest_timestamp_seconds{cluster="main"}')!;
    expect(Math.abs(earliest - Date.now() / 1000)).toBeLessThan(600);
    const newestWal = values.get('lifeboat_wal_archive_newest_timestamp_seconds{cluster="main"}')!;
    expect(Math.abs(newestWal - Date.now() / 1000)).toBeLessThan(600);
    expect(newestWal).toBeGreaterThanOrEqual(Math.floor(earliest) - 1);
    expect(values.get('lifeboat_job_runs_total{cluster="main",kind="verify",outcome="failed"}')).toBe(0);
    // Process metrics keep their conventional names.
    expect(values.get('process_resident_memory_bytes')).toBeGreaterThan(10_000_000);
    expect(values.has('process_cpu_seconds_total')).toBe(true);

    const keyFile = readFileSync(join(fixture.dir, 'keys', 'lifeboat.key'), 'utf8').trim();
    for (const secret of [pg.lifeboat.password, pg.superuser.password, keyFile]) expect(text).not.toContain(secret);
  }, 60_000);

  it('counts the jobs it runs and reports the last verify from the run records', async () => {
    const run = await runLifeboatCli(fixture, ['--config', daemon!.configPath, 'jobs', 'run', 'verify', '--wait'], { timeoutMs: 120_000 });
    expect(run.code, run.stderr).toBe(0);
    // The catalog values are cached for 30 s: wait for the next read.
    const values = await waitFor('the verify in /metrics', async () => {
      const v = parseMetricSamples((await scrape()).text);
      return v.has('lifeboat_last_success_timestamp_seconds{cluster="main",kind="verify"}') ? v : undefined;
    }, { timeoutMs: 60_000, intervalMs: 2_000 });
    expect(values.get('lifeboat_job_runs_total{cluster="main",kind="verify",outcome="done"}')).toBe(1);
    expect(Math.abs(values.get('lifeboat_last_success_timestamp_seconds{cluster="main",kind="verify"}')! - Date.now() / 1000)).toBeLessThan(120);
  }, 200_000);

  it('reports the archiver state of its state folder, labelled with the daemon as holder', async () => {
    // As the archiver run by this daemon writes it (the elected archiver will write here too).
    const statePath = join(fixture.dir, 'state-m1', 'main', 'archiver-state.json');
    await storeArchiverState(statePath, { cluster: 'main', lagBytes: 4096, lagSeconds: 3, segmentsArchived: 1, partialsUploaded: 0, receiverRunning: true, receiverRestarts: 0, updatedTime: new Date().toISOString() });
    const holder = (daemon!.lines.find((l) => l.msg === 'daemon ready')!.daemonId as string).replaceAll('"', '\\"');
    const values = parseMetricSamples((await scrape()).text);
    expect(values.get(`lifeboat_wal_archive_lag_bytes{cluster="main",holder="${holder}"}`)).toBe(4096);
    expect(values.get(`lifeboat_wal_archive_lag_seconds{cluster="main",holder="${holder}"}`)).toBe(3);
    expect(values.get(`lifeboat_wal_archiver_up{cluster="main",holder="${holder}"}`)).toBe(1);
  }, 60_000);

  it('reports the archiver lease holder as Redis names it, and no series while nobody holds it', async () => {
    // This daemon does not take `archive`: the holder is another daemon, as every daemon reports it.
    const client = new Redis(redisServer.url, { maxRetriesPerRequest: 1 });
    try {
      const key = archiverLeaseKey('lbmetrics', 'main');
      const holderSeries = (text: string): string[] => text.split('\n').filter((line) => line.startsWith('lifeboat_wal_archiver_lease_holder{'));
      expect(holderSeries((await scrape()).text)).toEqual([]);
      await client.set(key, 'other-host:4242:abcdef', 'PX', 60_000);
      expect(holderSeries((await scrape()).text)).toEqual(['lifeboat_wal_archiver_lease_holder{cluster="main",holder="other-host:4242:abcdef"} 1']);
      await client.del(key);
      expect(holderSeries((await scrape()).text)).toEqual([]);
    } finally {
      client.disconnect();
    }
  }, 60_000);
});
