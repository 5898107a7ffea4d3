// The daemon recovering from its own deaths, against real Redis and PostgreSQL: a run redelivered after its daemon
// died between the backup's manifest and the run's record finds its backup in the repository and takes no second
// one; a job child killed by SIGKILL (as the OOM killer does) is recorded as such and retried, and the retry removes
// what the killed child left; after a SIGTERM during a full backup, the next full run on the same state folder
// leaves nothing of the aborted backup in the repository.
import { Redis } from 'ioredis';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLifeboatError } from '../../src/errors/index.js';
import { createLogger } from '../../src/log/index.js';
import { loadBackupCatalog } from '../../src/repository/backup-catalog.js';
import type { Repository } from '../../src/repository/open-repository.js';
import { enqueueRun, openQueue } from '../../src/jobs/job-queues.js';
import { queueName, runRecordKey } from '../../src/jobs/redis-keys.js';
import { loadRunRecord, type RunRecord } from '../../src/jobs/run-record.js';
import { backupsPrefix } from '../../src/storage/index.js';
import { startDaemon, writeDaemonConfig, type DaemonProcess } from '../harness/daemon-runner.js';
import { startDaemonTestServices, type DaemonTestServices } from '../harness/daemon-runner.js';
import { pgbench, type LifeboatFixture } from '../harness/lifeboat-fixture.js';
import type { PostgresServer } from '../harness/postgres.js';
import { listProcessTree, waitForProcessesGone } from '../harness/process-tree.js';
import type { RedisServer } from '../harness/redis.js';
import { startInProcessArchiver, type InProcessArchiver } from '../harness/wal-archiver-runner.js';
import { waitFor } from '../harness/wait-for.js';

const log = createLogger({ level: process.env.LIFEBOAT_TEST_LOG_LEVEL ?? 'warn' });
const PREFIX = 'lbrecover';
let pg: PostgresServer;
let fixture: LifeboatFixture;
let repository: Repository;
let archiver: InProcessArchiver | undefined;
let redisServer: RedisServer;
let redis: Redis;
let services: DaemonTestServices | undefined;
let queue: Queue;
const daemons: DaemonProcess[] = [];

beforeAll(async () => {
  services = await startDaemonTestServices();
  ({ pg, redisServer, fixture, repository, redis } = services);
  queue = openQueue(queueName('main', 'full'), { host: redisServer.host, port: redisServer.port, maxRetriesPerRequest: null }, PREFIX);
  await pgbench(pg, ['-i', '-s', '1', '-q']);
  archiver = startInProcessArchiver({ fixture, storage: repository.storage, keys: repository.keys, log });
}, 240_000);

afterAll(async () => {
  for (const daemon of daemons) daemon.child.kill('SIGKILL');
  await archiver?.stop().catch(() => undefined);
  await queue?.close();
  await services?.stop();
});

/** A daemon on its own state folder `state-<name>`, taking on-demand runs only. */
async function startReadyDaemon(name: string, shutdownTimeoutSeconds = 30): Promise<DaemonProcess> {
  const configPath = writeDaemonConfig(fixture, name, {
    top: { redis: { url: redisServer.url, prefix: PREFIX }, daemon: { listen: '127.0.0.1:0', shutdownTimeoutSeconds, lockLeaseSeconds: 4 } },
    cluster: { schedules: {} },
  });
  const daemon = startDaemon(fixture, name, configPath);
  daemons.push(daemon);
  await daemon.waitForLine('ready', (line) => line.msg === 'daemon ready');
  return daemon;
}

/** Stop the in-process archiver; one stopped while still starting reports its abort, which is what was asked. */
async function stopArchiver(): Promise<void> {
  await archiver?.stop().catch((error: unknown) => {
    if (!isLifeboatError(error) || error.code !== 'aborted') throw error;
  });
  archiver = undefined;
}

async function stopDaemon(daemon: DaemonProcess): Promise<void> {
  daemon.child.kill('SIGTERM');
  expect((await daemon.exited).code).toBe(0);
  daemons.splice(daemons.indexOf(daemon), 1);
}

function waitForRecord(what: string, runKey: string, predicate: (record: RunRecord) => boolean, timeoutMs = 120_000): Promise<RunRecord> {
  return waitFor(
    `run ${runKey}: ${what}`,
    async () => {
      const record = await loadRunRecord(redis, PREFIX, runKey);
      return record && predicate(record) ? record : undefined;
    },
    { timeoutMs, intervalMs: 250 },
  );
}

/** Keys of the repository objects under backup `backupId`'s folder. */
async function objectsOf(backupId: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of repository.storage.list(`${backupsPrefix('main')}${backupId}/`)) keys.push(object.key);
  return keys;
}

async function backupIds(): Promise<string[]> {
  return (await loadBackupCatalog(repository.storage, 'main')).map((m) => m.backupId);
}

/** Queue a full run on `daemon` and wait until its backup streams; returns the child's pid and the backup id. */
async function startFullRun(daemon: DaemonProcess): Promise<{ runKey: string; jobId: string; childPid: number; backupId: string }> {
  const { runKey, jobId } = await enqueueRun(queue, 'main', 'full', 'test');
  const started = await daemon.waitForLine('job process started', (line) => line.msg === 'job process started' && line.runKey === runKey);
  const streaming = await daemon.waitForLine('full backup started', (line) => line.msg === 'full backup started' && line.runKey === runKey);
  return { runKey, jobId, childPid: started.pid as number, backupId: streaming.backupId as string };
}

describe('a daemon recovering from deaths', () => {
  it('a run redelivered after its daemon died before recording it finds its backup and takes no second one', async () => {
    const daemon = await startReadyDaemon('idem');
    const { runKey, jobId } = await enqueueRun(queue, 'main', 'full', 'test');
    const done = await waitForRecord('done', runKey, (r) => r.state === 'done');
    const first = done.backupId!;
    const catalog = await loadBackupCatalog(repository.storage, 'main');
    expect(catalog.find((m) => m.backupId === first)?.runKey).toBe(runKey);

    // The gap: the manifest is written, but the daemon died before the record said done (and before BullMQ heard).
    const rewoundAt = new Date();
    await redis.multi().hset(runRecordKey(PREFIX, runKey), 'state', 'running').hdel(runRecordKey(PREFIX, runKey), 'backupId', 'endedAt', 'message').exec();
    const job = await queue.getJob(jobId);
    await job!.retry('completed');

    const again = await waitForRecord('done again after the redelivery', runKey, (r) => r.state === 'done' && Date.parse(r.updatedAt) > rewoundAt.getTime());
    expect(again, JSON.stringify(again)).toMatchObject({ state: 'done', backupId: first, duplicates: 1 });
    expect(again.message).toContain(`this run already took full backup ${first}`);
    expect(await backupIds()).toEqual(catalog.map((m) => m.backupId));
    await stopDaemon(daemon);
  }, 240_000);

  it('a job child killed by SIGKILL is recorded as such and retried; the retry removes what it left', async () => {
    const daemon = await startReadyDaemon('oom');
    // Without the archiver the backup streams, then waits for its WAL: the child is killed in that window.
    await stopArchiver();
    const { runKey, childPid, backupId } = await startFullRun(daemon);
    const tree = listProcessTree(childPid);
    process.kill(childPid, 'SIGKILL');
    const killed = await waitForRecord('retrying', runKey, (r) => r.state === 'retrying', 30_000);
    expect(killed).toMatchObject({ errorCode: 'aborted', message: 'job child killed by SIGKILL (out of memory?)', attempt: 1 });
    archiver = startInProcessArchiver({ fixture, storage: repository.storage, keys: repository.keys, log });
    await waitForProcessesGone(tree, 10_000);
    // The killed child cleaned nothing up.
    expect(await objectsOf(backupId)).not.toEqual([]);

    // The retry (after BullMQ's backoff) takes the backup, and removes the killed child's leftovers at once:
    // same host, same state folder, and the dead child's backup lock is free.
    const done = await waitForRecord('done by the retry', runKey, (r) => r.state === 'done', 180_000);
    expect(done).toMatchObject({ attempt: 2 });
    expect(done.backupId).not.toBe(backupId);
    expect(await backupIds()).toContain(done.backupId);
    expect(await objectsOf(backupId)).toEqual([]);
    await stopDaemon(daemon);
  }, 300_000);

  it('after a SIGTERM during a full backup, the next full run on the same state folder leaves nothing of it', async () => {
    const before = await backupIds();
    await stopArchiver();
    const first = await startReadyDaemon('term', 2);
    const { backupId: aborted, childPid } = await startFullRun(first);
    const tree = listProcessTree(childPid);
    first.child.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
    daemons.splice(daemons.indexOf(first), 1);
    await waitForProcessesGone(tree, 10_000);
    expect(await backupIds()).toEqual(before);
    await queue.drain(true);

    archiver = startInProcessArchiver({ fixture, storage: repository.storage, keys: repository.keys, log });
    const next = await startReadyDaemon('term');
    const { runKey } = await enqueueRun(queue, 'main', 'full', 'test');
    const done = await waitForRecord('done', runKey, (r) => r.state === 'done' || r.state === 'failed', 180_000);
    expect(done.state, JSON.stringify(done)).toBe('done');
    expect(await objectsOf(aborted)).toEqual([]);
    expect(await backupIds()).toEqual([...before, done.backupId]);
    await stopDaemon(next);
  }, 300_000);
});
