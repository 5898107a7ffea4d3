// The daemon against real Redis and PostgreSQL: three daemons (each its own state folder, as three hosts) share one
// Redis and run second-level schedules; every due run is handled exactly once (done or skipped), the repository
// holds exactly the backups the done records name, base-backup runs of the cluster never overlap, and a second
// delivery of a finished run takes no second backup. Then shutdown: SIGTERM during a full backup exits 0 within the
// timeout with no partial backup listed and no child left; SIGKILL of the daemon stops its job child and the lease
// expires.
import { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFullBackup } from '../../src/backup/full/run-full-backup.js';
import { nextCronRuns } from '../../src/config/index.js';
import { createLogger } from '../../src/log/index.js';
import { loadBackupCatalog } from '../../src/repository/backup-catalog.js';
import type { Repository } from '../../src/repository/open-repository.js';
import { enqueueRun, openQueue } from '../../src/jobs/job-queues.js';
import { lockKey, queueName } from '../../src/jobs/redis-keys.js';
import { listRecentRuns, loadRunRecord, type RunRecord } from '../../src/jobs/run-record.js';
import { startDaemon, writeDaemonConfig, type DaemonProcess } from '../harness/daemon-runner.js';
import { startDaemonTestServices, type DaemonTestServices } from '../harness/daemon-runner.js';
import { runLifeboatCli } from '../harness/lifeboat-cli.js';
import { pgbench, type LifeboatFixture } from '../harness/lifeboat-fixture.js';
import type { PostgresServer } from '../harness/postgres.js';
import { isProcessAlive, listProcessTree, waitForProcessesGone } from '../harness/process-tree.js';
import type { RedisServer } from '../harness/redis.js';
import { startInProcessArchiver, type InProcessArchiver } from '../harness/wal-archiver-runner.js';
import { waitFor } from '../harness/wait-for.js';

const log = createLogger({ level: process.env.LIFEBOAT_TEST_LOG_LEVEL ?? 'warn' });
// incr is offset from full so that both get done runs; when they collide anyway (a slow full), one is skipped.
const SCHEDULES = { full: '*/15 * * * * *', incr: '2-59/5 * * * * *', verify: '*/10 * * * * *' };
const PREFIX = 'lbtest';
let pg: PostgresServer;
let fixture: LifeboatFixture;
let repository: Repository;
let archiver: InProcessArchiver | undefined;
let redisServer: RedisServer;
let redis: Redis;
let services: DaemonTestServices | undefined;
const daemons: DaemonProcess[] = [];

beforeAll(async () => {
  services = await startDaemonTestServices();
  ({ pg, redisServer, fixture, repository, redis } = services);
  await pgbench(pg, ['-i', '-s', '1', '-q']);
  archiver = startInProcessArchiver({ fixture, storage: repository.storage, keys: repository.keys, log });
  // The chain starts with one full backup, so that the first incr has a tip to seal after.
  await runFullBackup({ config: fixture.config, cluster: fixture.config.clusters[0]!, storage: repository.storage, keys: repository.keys, log, signal: AbortSignal.timeout(120_000), lifeboatVersion: 'test' });
}, 240_000);

afterAll(async () => {
  for (const daemon of daemons) daemon.child.kill('SIGKILL');
  await archiver?.stop().catch(() => undefined);
  await services?.stop();
});

function daemonConfig(name: string, options: { schedules?: Record<string, string>; shutdownTimeoutSeconds?: number; jobs?: string[] } = {}): string {
  return writeDaemonConfig(fixture, name, {
    top: {
      redis: { url: redisServer.url, prefix: PREFIX },
      daemon: { listen: '127.0.0.1:0', shutdownTimeoutSeconds: options.shutdownTimeoutSeconds ?? 60, lockLeaseSeconds: 4, ...(options.jobs ? { jobs: options.jobs } : {}) },
    },
    cluster: { schedules: options.schedules ?? {} },
  });
}

async function allRecords(): Promise<RunRecord[]> {
  return listRecentRuns(redis, PREFIX, 10_000);
}

function overlaps(a: RunRecord, b: RunRecord): boolean {
  return Date.parse(a.startedAt!) < Date.parse(b.endedAt!) && Date.parse(b.startedAt!) < Date.parse(a.endedAt!);
}

describe('daemons on one Redis', () => {
  let windowStart: Date;
  let windowEnd: Date;
  let catalogBefore: number;

  it('run each due run exactly once, done or skipped, and base-backup runs never overlap', async () => {
    catalogBefore = (await loadBackupCatalog(repository.storage, 'main')).length;
    const load = pgbench(pg, ['-c', '1', '-R', '20', '-T', '40', '-n']);
    // d3 is placed for verify only (as a drill host would be): no backup may ever run there.
    for (const name of ['d1', 'd2', 'd3']) daemons.push(startDaemon(fixture, name, daemonConfig(name, { schedules: SCHEDULES, ...(name === 'd3' ? { jobs: ['verify'] } : {}) })));
    const ready = await Promise.all(daemons.map((d) => d.waitForLine('ready', (line) => line.msg === 'daemon ready')));
    const verifyOnly = ready[2]!.daemonId as string;
    windowStart = new Date();
    await new Promise((resolve) => setTimeout(resolve, 40_000));
    await load;
    windowEnd = new Date();
    // Let the runs started in the window finish (a full backup takes a few seconds) before judging.
    await waitFor('no run in progress', async () => (await allRecords()).every((r) => r.state !== 'running'), { timeoutMs: 90_000 });

    const records = await allRecords();
    const byKind = (kind: string): RunRecord[] => records.filter((r) => r.kind === kind && r.dueAt !== undefined);
    for (const [kind, pattern] of Object.entries(SCHEDULES)) {
      // Every slot strictly inside the window has its one record, final.
      const slots = nextCronRuns(pattern, 'UTC', new Date(windowStart.getTime() + 2_000), 100).filter((due) => due.getTime() < windowEnd.getTime() - 2_000);
      const recorded = new Map(byKind(kind).map((r) => [r.dueAt!, r]));
      for (const slot of slots) {
        const record = recorded.get(slot.toISOString());
        expect(record, `${kind} run due ${slot.toISOString()}`).toBeDefined();
        expect(['done', 'skipped'], `${kind} ${slot.toISOString()}: ${record?.state} ${record?.message}`).toContain(record!.state);
      }
    }
    // No run was worked on twice: BullMQ delivered each once, and no record counts a duplicate yet.
    expect(records.filter((r) => (r.duplicates ?? 0) > 0)).toEqual([]);

    // Exactly as many new backups in the repository as done records naming one.
    const produced = records.filter((r) => r.state === 'done' && r.backupId !== undefined);
    const catalog = await loadBackupCatalog(repository.storage, 'main');
    expect(catalog.length - catalogBefore).toBe(produced.length);
    expect(new Set(catalog.map((m) => m.backupId))).toEqual(new Set([...catalog.slice(0, catalogBefore).map((m) => m.backupId), ...produced.map((r) => r.backupId!)]));
    expect(produced.filter((r) => r.kind === 'full').length, JSON.stringify(records.filter((r) => r.state !== 'done' && r.state !== 'skipped' || r.kind === 'full'), null, 1)).toBeGreaterThanOrEqual(2);

    // full/incr hold the base-backup lock: their runs never overlap in time; skips name the holder.
    const base = records.filter((r) => (r.kind === 'full' || r.kind === 'incr') && r.state === 'done');
    for (let i = 0; i < base.length; i++) for (let j = i + 1; j < base.length; j++) expect(overlaps(base[i]!, base[j]!), `${base[i]!.runKey} vs ${base[j]!.runKey}`).toBe(false);
    for (const skipped of records.filter((r) => r.state === 'skipped')) expect(skipped.message).toMatch(/lock of cluster "main" is held by (full|incr) run main\.(full|incr)@.* on daemon /);

    expect(records.filter((r) => r.daemonId === verifyOnly && r.kind !== 'verify')).toEqual([]);

    // Several daemons took work, and every job log line names its job, kind and cluster; no secret anywhere.
    const workers = new Set(records.filter((r) => r.state === 'done').map((r) => r.daemonId));
    expect(workers.size).toBeGreaterThanOrEqual(2);
    for (const daemon of daemons) {
      for (const line of daemon.lines.filter((l) => l.runKey !== undefined)) expect(line).toMatchObject({ jobId: expect.any(String), kind: expect.any(String), cluster: 'main' });
      expect(daemon.output()).not.toContain(pg.lifeboat.password);
    }
    expect(daemons.flatMap((d) => d.lines).some((l) => l.component === 'job' && l.backupId !== undefined && l.runKey !== undefined)).toBe(true);
  }, 200_000);

  it('counts a second delivery of a finished run as a duplicate and takes no second backup', async () => {
    const catalogBefore = (await loadBackupCatalog(repository.storage, 'main')).length;
    const queue: Queue = openQueue(queueName('main', 'full'), { host: redisServer.host, port: redisServer.port, maxRetriesPerRequest: null }, PREFIX);
    try {
      const [job] = (await queue.getJobs(['completed'], 0, 50)).filter((j) => (j.returnvalue as { outcome?: string } | undefined)?.outcome === 'done');
      expect(job).toBeDefined();
      const runKey = (job!.returnvalue as { runKey: string }).runKey;
      // As BullMQ does with a stalled job: the same job, delivered again.
      await job!.retry('completed');
      const record = await waitFor('the duplicate to be counted', async () => {
        const r = await loadRunRecord(redis, PREFIX, runKey);
        return (r?.duplicates ?? 0) >= 1 ? r : undefined;
      });
      expect(record.state).toBe('done');
      expect((await loadBackupCatalog(repository.storage, 'main')).length).toBe(catalogBefore);
    } finally {
      await queue.close();
    }
  }, 60_000);

  it('jobs run --wait follows an on-demand run to its end; status shows catalog, schedules and daemons', async () => {
    const run = await runLifeboatCli(fixture, ['--config', daemons[0]!.configPath, 'jobs', 'run', 'full', '--wait'], { timeoutMs: 90_000 });
    // A scheduled incr may hold the lock at that moment: then the run is skipped, and says so with `locked`.
    expect([0, 91], run.stderr).toContain(run.code);
    if (run.code === 0) expect(run.stdout).toMatch(/full run done on daemon .*: full backup \d{8}T\d{6}Z-F/);
    else expect(run.stderr).toMatch(/error\[locked\]: skipped: the base-backup lock of cluster "main" is held by/);

    const status = await runLifeboatCli(fixture, ['--config', daemons[0]!.configPath, 'status', '--json']);
    expect(status.code, status.stderr).toBe(0);
    const parsed = JSON.parse(status.stdout) as { clusters: { cluster: string; lastSuccess: Record<string, { backupId?: string }>; next: { kind: string; nextRunAt?: string; missingInRedis: boolean }[] }[]; daemons: { id: string; scheduleHash: string }[] };
    const main = parsed.clusters[0]!;
    const catalog = await loadBackupCatalog(repository.storage, 'main');
    expect(main.lastSuccess.full?.backupId).toBe(catalog.filter((m) => m.type === 'full').at(-1)!.backupId);
    expect(main.lastSuccess.verify).toBeDefined();
    expect(main.next.map((n) => n.kind).sort()).toEqual(['full', 'incr', 'verify']);
    expect(main.next.every((n) => !n.missingInRedis && n.nextRunAt !== undefined)).toBe(true);
    expect(parsed.daemons).toHaveLength(3);
    expect(new Set(parsed.daemons.map((d) => d.scheduleHash)).size).toBe(1);
    const text = await runLifeboatCli(fixture, ['--config', daemons[0]!.configPath, 'status']);
    expect(text.stdout).toMatch(/full +last ok .* ago\) \d{8}T\d{6}Z-F; next .*/);
    for (const output of [run.stdout, run.stderr, status.stdout, text.stdout]) expect(output).not.toContain(pg.lifeboat.password);
  }, 120_000);

  it('stop gracefully on SIGTERM: exit 0, no child left', async () => {
    const exits = await Promise.all(
      daemons.splice(0).map(async (daemon) => {
        const children = daemon.descendants();
        daemon.child.kill('SIGTERM');
        const exit = await daemon.exited;
        await waitForProcessesGone(children, 10_000);
        return exit.code;
      }),
    );
    expect(exits).toEqual([0, 0, 0]);
    expect(await redis.zcard(`${PREFIX}:daemons`)).toBe(0);
  }, 120_000);
});

describe('a daemon interrupted during a full backup', () => {
  async function drainQueues(): Promise<void> {
    for (const kind of ['full', 'diff', 'incr', 'verify'] as const) {
      const queue = openQueue(queueName('main', kind), { host: redisServer.host, port: redisServer.port, maxRetriesPerRequest: null }, PREFIX);
      await queue.drain(true);
      await queue.close();
    }
  }

  beforeAll(async () => {
    // What the scheduled daemons left queued (a retried or due run) must not compete with the runs below.
    await drainQueues();
    // Without the archiver, a full backup streams and then waits for its WAL: a long, cheap window to interrupt.
    await archiver?.stop();
    archiver = undefined;
  });

  async function startFullBackupOn(name: string, shutdownTimeoutSeconds: number): Promise<{ daemon: DaemonProcess; childPid: number; runKey: string }> {
    const daemon = startDaemon(fixture, name, daemonConfig(name, { shutdownTimeoutSeconds }));
    daemons.push(daemon);
    await daemon.waitForLine('ready', (line) => line.msg === 'daemon ready');
    const queue = openQueue(queueName('main', 'full'), { host: redisServer.host, port: redisServer.port, maxRetriesPerRequest: null }, PREFIX);
    const { runKey } = await enqueueRun(queue, 'main', 'full', 'test');
    await queue.close();
    const started = await daemon.waitForLine('job process started', (line) => line.msg === 'job process started' && line.runKey === runKey);
    // The backup is past its first steps once pg_basebackup streams.
    await daemon.waitForLine('full backup started', (line) => line.msg === 'full backup started' && line.runKey === runKey);
    return { daemon, childPid: started.pid as number, runKey };
  }

  it('SIGTERM: aborts the backup at the shutdown timeout, exits 0, lists no partial backup, leaves no child', async () => {
    const before = (await loadBackupCatalog(repository.storage, 'main')).map((m) => m.backupId);
    const { daemon, childPid, runKey } = await startFullBackupOn('term', 2);
    const tree = listProcessTree(childPid);
    const sentAt = Date.now();
    daemon.child.kill('SIGTERM');
    const exit = await daemon.exited;
    expect(exit.code).toBe(0);
    expect(exit.atMs - sentAt).toBeLessThan(2_000 + 15_000);
    await waitForProcessesGone(tree, 5_000);
    expect((await loadBackupCatalog(repository.storage, 'main')).map((m) => m.backupId)).toEqual(before);
    const record = await loadRunRecord(redis, PREFIX, runKey);
    expect(record, JSON.stringify(record)).toMatchObject({ state: 'retrying', errorCode: 'aborted' });
    expect(await redis.get(lockKey(PREFIX, 'main', 'base-backup'))).toBeNull();
    daemons.splice(daemons.indexOf(daemon), 1);
    await drainQueues();
  }, 120_000);

  it('SIGKILL: the job child stops within seconds and the lock lease expires', async () => {
    const { daemon, childPid } = await startFullBackupOn('kill', 60);
    const tree = listProcessTree(childPid);
    expect(isProcessAlive(childPid)).toBe(true);
    expect(await redis.get(lockKey(PREFIX, 'main', 'base-backup'))).not.toBeNull();
    daemon.child.kill('SIGKILL');
    await daemon.exited;
    await waitForProcessesGone(tree, 5_000);
    await waitFor('the lease to expire', async () => (await redis.get(lockKey(PREFIX, 'main', 'base-backup'))) === null, { timeoutMs: 10_000 });
    daemons.splice(daemons.indexOf(daemon), 1);
  }, 120_000);
});

