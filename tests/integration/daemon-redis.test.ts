// The daemon and its Redis: a Redis restart without persistence (every queue, scheduler and record lost) is
// survived, the schedules are re-created from the config and resume without duplicates; and a run missed while
// every daemon was down runs once when one comes back, not once per missed slot. The job is `verify` of an empty
// repository, so no PostgreSQL is needed: each run ends `failed` with objectNotFound ("no backups"), which is not
// retried, so every due slot has exactly one final record. Redis requires a password (a secret reference): it
// appears in no log line, no status output and no process command line.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextCronRuns, parseConfig, resolveConfig } from '../../src/config/index.js';
import { openQueue, queueName } from '../../src/jobs/job-queues.js';
import { listRecentRuns, type RunRecord } from '../../src/jobs/run-record.js';
import { openRepository } from '../../src/repository/open-repository.js';
import { startDaemon, writeDaemonConfig, type DaemonProcess } from '../harness/daemon-runner.js';
import { freePort } from '../harness/free-port.js';
import { pingRedis } from '../harness/redis.js';
import type { LifeboatFixture } from '../harness/lifeboat-fixture.js';
import { runLifeboatCli } from '../harness/lifeboat-cli.js';
import { startServiceProcess, waitUntilServiceReady, type ServiceProcess } from '../harness/service-process.js';
import { ensureCliBuilt } from '../harness/wal-archiver-runner.js';
import { waitFor } from '../harness/wait-for.js';

const PREFIX = 'lbredis';
const EVERY_2S = '*/2 * * * * *';
let dir: string;
let port: number;
let redisProcess: ServiceProcess | undefined;
let redis: Redis;
let fixture: LifeboatFixture;
const daemons: DaemonProcess[] = [];

const REDIS_PASSWORD = `redis-${randomBytes(12).toString('hex')}`;

/** A redis-server on `port` without persistence: stopping it loses everything, as a restart without AOF does. */
async function startRedisServer(): Promise<void> {
  // The password goes in a config file, not on redis-server's command line.
  writeFileSync(join(dir, 'redis.conf'), `requirepass ${REDIS_PASSWORD}\n`, { mode: 0o600 });
  const service = startServiceProcess({ command: 'redis-server', args: [join(dir, 'redis.conf'), '--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir], cwd: dir });
  await waitUntilServiceReady(service, `redis-server on port ${port}`, () => pingRedis('127.0.0.1', port, REDIS_PASSWORD), 30_000);
  redisProcess = service;
}

/** The command lines of `pids` (NUL-separated arguments joined by spaces). */
function commandLines(pids: readonly number[]): string {
  return pids.map((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      return '';
    }
  }).join('\n');
}

beforeAll(async () => {
  ensureCliBuilt();
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-daemon-redis-'));
  port = await freePort();
  await startRedisServer();
  redis = new Redis({ host: '127.0.0.1', port, password: REDIS_PASSWORD, maxRetriesPerRequest: null });
  redis.on('error', () => undefined);
  const raw = {
    clusters: [{ name: 'main', postgres: { host: '127.0.0.1', user: 'lifeboat' }, schedules: { verify: EVERY_2S } }],
    repository: { driver: 'fs', path: './repo' },
    encryption: { provider: 'local', keyFile: './keys/lifeboat.key' },
    redis: { url: `redis://127.0.0.1:${port}/0`, prefix: PREFIX, password: { env: 'LB_TEST_REDIS_PASSWORD' } },
    daemon: { listen: '127.0.0.1:0', lockLeaseSeconds: 4, shutdownTimeoutSeconds: 10 },
  };
  const configPath = join(dir, 'lifeboat.yaml');
  writeFileSync(configPath, JSON.stringify(raw), { mode: 0o600 });
  const env = { ...process.env, LB_TEST_REDIS_PASSWORD: REDIS_PASSWORD };
  const config = resolveConfig(parseConfig(raw, 'test'), configPath, env);
  // The key exists before any job reads the (empty) repository.
  (await openRepository(config, 'write')).close();
  fixture = { dir, config, configPath, env, cleanup: () => undefined };
}, 60_000);

afterAll(async () => {
  for (const daemon of daemons) daemon.child.kill('SIGKILL');
  redis?.disconnect();
  await redisProcess?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function verifyRecords(): Promise<RunRecord[]> {
  return (await listRecentRuns(redis, PREFIX, 1000)).filter((r) => r.kind === 'verify' && r.dueAt !== undefined).sort((a, b) => a.dueAt!.localeCompare(b.dueAt!));
}

/** Every 2-second slot from the first to the last recorded due time has exactly its one final record. */
function expectContiguous(records: RunRecord[]): void {
  const first = new Date(Date.parse(records[0]!.dueAt!) - 1);
  const last = Date.parse(records.at(-1)!.dueAt!);
  const slots = nextCronRuns(EVERY_2S, 'UTC', first, 100).filter((d) => d.getTime() <= last).map((d) => d.toISOString());
  expect(records.map((r) => r.dueAt)).toEqual(slots);
  for (const record of records) expect(record, JSON.stringify(record)).toMatchObject({ state: 'failed', errorCode: 'objectNotFound', attempt: 1 });
  expect(records.filter((r) => (r.duplicates ?? 0) > 0)).toEqual([]);
}

describe('the daemon and its Redis', () => {
  it('survives a Redis restart without persistence: schedules re-created, runs resume without duplicates', async () => {
    const daemon = startDaemon(fixture, 'd1', writeDaemonConfig(fixture, 'd1', {}));
    daemons.push(daemon);
    const ready = await daemon.waitForLine('ready', (line) => line.msg === 'daemon ready');
    const probe = async (path: string): Promise<number> => (await fetch(`http://${ready.listen as string}${path}`, { signal: AbortSignal.timeout(10_000) })).status;
    expect(await probe('/healthz')).toBe(200);
    expect(await probe('/readyz')).toBe(200);

    // One daemon per state folder: a second one on the same config is refused, naming the holder's pid.
    const second = startDaemon(fixture, 'd1-again', daemon.configPath);
    const refused = await second.exited;
    expect(refused.code).toBe(91);
    expect(second.output()).toContain(`error[locked]: another process holds the daemon lock on ${join(dir, 'state-d1')}: pid ${daemon.pid}`);

    await waitFor('two verify runs', async () => (await verifyRecords()).filter((r) => r.state === 'failed').length >= 2 || undefined, { timeoutMs: 30_000 });

    await redisProcess!.stop();
    // Alive, not ready, while Redis is away.
    expect(await probe('/healthz')).toBe(200);
    expect(await probe('/readyz')).toBe(503);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await startRedisServer();
    const restartedAt = new Date();
    await daemon.waitForLine('reconnect', (line) => line.msg === 'redis connection restored; reconciling the job schedulers', 30_000);
    // The restart lost the scheduler: the reconcile after the reconnect adds it again.
    const reconciled = await daemon.waitForLine('re-reconcile', (line) => line.msg === 'job schedulers reconciled with the config' && Date.parse(line.time as string) >= restartedAt.getTime() - 1_000, 30_000);
    expect(reconciled.added).toEqual(['main.verify']);
    await waitFor('three verify runs after the restart', async () => (await verifyRecords()).filter((r) => r.state === 'failed').length >= 3 || undefined, { timeoutMs: 40_000 });
    const after = await verifyRecords();
    expect(Date.parse(after[0]!.dueAt!)).toBeGreaterThanOrEqual(restartedAt.getTime() - 2_000);
    expectContiguous(after.filter((r) => r.state !== 'running'));
    const queue = openQueue(queueName('main', 'verify'), { host: '127.0.0.1', port, password: REDIS_PASSWORD, maxRetriesPerRequest: null }, PREFIX);
    expect(await queue.getJobScheduler('main.verify')).toMatchObject({ pattern: EVERY_2S });
    await queue.close();
  }, 120_000);

  it('runs a schedule missed while every daemon was down once when one comes back', async () => {
    const first = daemons.pop()!;
    first.child.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
    const downAt = Date.now();
    const before = new Set((await verifyRecords()).map((r) => r.runKey));
    // Four slots pass with no daemon.
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    const back = startDaemon(fixture, 'd2', writeDaemonConfig(fixture, 'd2', {}));
    daemons.push(back);
    await back.waitForLine('ready', (line) => line.msg === 'daemon ready');
    const backAt = Date.now();
    await waitFor('two runs after the return', async () => (await verifyRecords()).filter((r) => !before.has(r.runKey) && Date.parse(r.dueAt!) > backAt && r.state === 'failed').length >= 2 || undefined, {
      timeoutMs: 30_000,
    });
    const missed = (await verifyRecords()).filter((r) => !before.has(r.runKey) && Date.parse(r.dueAt!) > downAt - 2_000 && Date.parse(r.dueAt!) < backAt - 2_000);
    expect(missed.map((r) => `${r.dueAt} ${r.state} ${r.daemonId}`)).toHaveLength(1);
    expect(missed[0]!.state).toBe('failed');

    // The Redis password: in no log line, no status output, no command line of the daemon or its job children.
    const childCommandLines: string[] = [];
    await waitFor('a job child', () => {
      childCommandLines.push(commandLines(back.descendants()));
      return back.descendants().length > 0 || undefined;
    }, { timeoutMs: 10_000, intervalMs: 20 });
    const status = await runLifeboatCli(fixture, ['status', '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ daemons: [{ scheduleHash: expect.any(String) }] });
    for (const text of [status.stdout, status.stderr, commandLines([back.pid]), ...childCommandLines, ...daemons.map((d) => d.output()), first.output()]) {
      expect(text).not.toContain(REDIS_PASSWORD);
    }
  }, 120_000);

  it('pauses and resumes schedules for a maintenance window; jobs list shows the runs', async () => {
    const pause = await runLifeboatCli(fixture, ['schedules', 'pause', 'verify']);
    expect(pause.code, pause.stderr).toBe(0);
    expect(pause.stdout).toContain('paused: main.verify; schedulers removed: main.verify');
    const pausedAt = Date.now();
    const status = JSON.parse((await runLifeboatCli(fixture, ['status', '--json'])).stdout) as { clusters: { next: { kind: string; paused: boolean }[] }[] };
    expect(status.clusters[0]!.next).toEqual([expect.objectContaining({ kind: 'verify', paused: true, missingInRedis: false })]);
    // Three slots pass: none runs (a run already started when the pause came may still end).
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    expect((await verifyRecords()).filter((r) => Date.parse(r.dueAt!) > pausedAt + 1_000)).toEqual([]);
    // A daemon restart does not bring a paused schedule back.
    const daemon = daemons.pop()!;
    daemon.child.kill('SIGTERM');
    expect((await daemon.exited).code).toBe(0);
    const again = startDaemon(fixture, 'd3', writeDaemonConfig(fixture, 'd3', {}));
    daemons.push(again);
    const reconciled = await again.waitForLine('reconciled', (line) => line.msg === 'job schedulers reconciled with the config');
    expect(reconciled).toMatchObject({ added: [], paused: ['main.verify'] });

    const resume = await runLifeboatCli(fixture, ['schedules', 'resume']);
    expect(resume.code, resume.stderr).toBe(0);
    expect(resume.stdout).toContain('schedulers re-created: main.verify');
    const resumedAt = Date.now();
    await waitFor('runs after the resume', async () => (await verifyRecords()).filter((r) => Date.parse(r.dueAt!) > resumedAt && r.state !== 'running').length >= 1 || undefined, { timeoutMs: 20_000 });

    const list = await runLifeboatCli(fixture, ['jobs', 'list', '--failed', '--limit', '3']);
    expect(list.code, list.stderr).toBe(0);
    const lines = list.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line).toMatch(/ failed +verify main {2}main\.verify@\S+ {2}\S+ {2}\[objectNotFound\] verification of cluster "main"/);
  }, 120_000);

  it('refuses without Redis: a config without a redis section, and an unreachable Redis, each with its code', async () => {
    const raw = JSON.parse(readFileSync(fixture.configPath, 'utf8')) as Record<string, unknown>;
    const noRedis = join(dir, 'no-redis.yaml');
    writeFileSync(noRedis, JSON.stringify({ ...raw, redis: undefined, stateDir: './state-no-redis' }), { mode: 0o600 });
    const daemon = await runLifeboatCli(fixture, ['--config', noRedis, 'daemon'], { timeoutMs: 30_000 });
    expect(daemon.code).toBe(65);
    expect(daemon.stderr).toContain('error[config]: lifeboat daemon needs Redis');

    const unreachable = join(dir, 'unreachable.yaml');
    writeFileSync(unreachable, JSON.stringify({ ...raw, redis: { url: `redis://127.0.0.1:${await freePort()}/0` } }), { mode: 0o600 });
    const run = await runLifeboatCli(fixture, ['--config', unreachable, 'jobs', 'run', 'verify'], { timeoutMs: 30_000 });
    expect(run.code, run.stderr).toBe(79);
    expect(run.stderr).toMatch(/error\[redisUnavailable\]: cannot reach Redis at 127\.0\.0\.1:\d+/);
    expect(run.elapsedMs).toBeLessThan(15_000);
  }, 60_000);
});
