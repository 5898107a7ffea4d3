// The daemons elect one WAL archiver per cluster through a Redis lease, against real Redis and PostgreSQL under
// pgbench load: three daemons with the `archive` role serve one cluster, and at no sample are two walsenders
// streaming; SIGKILL of the holder's daemon: another archives within TTL + 10 s; SIGSTOP of the holder (its whole
// process tree, then the daemon alone with its archiver child running) past the TTL: another takes over, the old
// child never takes the slot back, and after SIGCONT the old daemon stands down without touching the new
// walsender; with Redis cut off past the TTL the holder archives on. Afterwards the repository's WAL has no gap,
// `verify` passes, and a `restore --latest` from the full backup taken before the load holds every committed id.
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/index.js';
import { toTimelineId } from '../../src/postgres/index.js';
import type { Repository } from '../../src/repository/open-repository.js';
import { acquireArchiverLease, readArchiverLeaseHolder, releaseArchiverLease, renewArchiverLease } from '../../src/jobs/archiver-lease.js';
import { archiverLeaseKey } from '../../src/jobs/redis-keys.js';
import { startDaemon, writeDaemonConfig, type DaemonProcess, type LogLine } from '../harness/daemon-runner.js';
import { startDaemonTestServices, type DaemonTestServices } from '../harness/daemon-runner.js';
import { freePort } from '../harness/free-port.js';
import type { LifeboatFixture } from '../harness/lifeboat-fixture.js';
import { runLifeboatCli, startCli } from '../harness/lifeboat-cli.js';
import { startPgbenchLoad, type PgbenchLoad } from '../harness/pgbench-load.js';
import type { PostgresServer } from '../harness/postgres.js';
import { listProcessTree, waitForProcessesGone } from '../harness/process-tree.js';
import { startRedisProxy, type RedisProxy } from '../harness/redis-proxy.js';
import { createRestoreRunner } from '../harness/restore-runner.js';
import { repositoryPath } from '../harness/restore-source.js';
import { runProcess } from '../harness/run-process.js';
import { WAL_SEGMENT_BYTES, findGaps, readStoredWal } from '../harness/wal-archiver-runner.js';
import { waitFor } from '../harness/wait-for.js';

const PREFIX = 'lbarch';
const LEASE_SECONDS = 5;
const SLOT = 'lifeboat';
let pg: PostgresServer;
let redis: Redis;
let services: DaemonTestServices | undefined;
let fixture: LifeboatFixture;
let repository: Repository;
let proxy: RedisProxy;
const daemons: DaemonProcess[] = [];
const stopped: number[] = [];
let load: PgbenchLoad | undefined;
let backupId: string;

/** Every sample of the slot and of the archivers' walsenders (pg_basebackup's are not counted), taken beside the whole test. */
const samples: { atMs: number; activePid: number | null; receivers: number }[] = [];
let sampling = true;
let sampler: Promise<void> | undefined;

function startArchiveDaemon(name: string): DaemonProcess {
  const configPath = writeDaemonConfig(fixture, name, {
    top: { redis: { url: `redis://127.0.0.1:${proxy.port}/0`, prefix: PREFIX }, daemon: { listen: '127.0.0.1:0', jobs: ['archive'], archiverLeaseSeconds: LEASE_SECONDS } },
    cluster: { schedules: {} },
  });
  const daemon = startDaemon(fixture, name, configPath);
  daemons.push(daemon);
  return daemon;
}

/** A daemon for one that left, so that three daemons contend for the lease in every case. */
async function replaceDaemon(gone: DaemonProcess, name: string): Promise<void> {
  daemons.splice(daemons.indexOf(gone), 1);
  await startArchiveDaemon(name).waitForLine('ready', (line) => line.msg === 'daemon ready');
}

async function sampleSlot(): Promise<{ activePid: number | null; receivers: number }> {
  const [row] = await pg.query<{ active_pid: number | null; receivers: number }>(
    `select (select active_pid from pg_replication_slots where slot_name = $1) as active_pid,
            (select count(*)::int from pg_stat_activity where backend_type = 'walsender' and application_name = 'lifeboat-receivewal') as receivers`,
    [SLOT],
  );
  return { activePid: row!.active_pid, receivers: row!.receivers };
}

async function holderDaemon(): Promise<DaemonProcess | undefined> {
  const holder = await redis.get(archiverLeaseKey(PREFIX, 'main'));
  if (!holder) return undefined;
  const pid = Number(holder.split(':')[1]);
  return daemons.find((d) => d.pid === pid);
}

/** The daemon holding the lease (other than `not`) once a walsender other than `notPid` streams on the slot. */
async function waitForArchiving(what: string, timeoutMs: number, not?: DaemonProcess, notPid?: number | null): Promise<{ daemon: DaemonProcess; activePid: number }> {
  return waitFor(
    what,
    async () => {
      const daemon = await holderDaemon();
      const { activePid } = await sampleSlot();
      if (!daemon || daemon === not || activePid === null || activePid === notPid) return undefined;
      return { daemon, activePid };
    },
    { timeoutMs, intervalMs: 100 },
  );
}

const loggedSince = (sinceMs: number) => (line: LogLine): boolean => Date.parse(String(line.time)) >= sinceMs;
const sleepMs = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Samples since `sinceMs` where the slot was not streamed by exactly `pid`, alone (at most five, for the message). */
function samplesOtherThan(pid: number, sinceMs: number): typeof samples {
  const since = samples.filter((s) => s.atMs >= sinceMs);
  expect(since.length).toBeGreaterThan(10);
  return since.filter((s) => s.activePid !== pid || s.receivers !== 1).slice(0, 5);
}

beforeAll(async () => {
  services = await startDaemonTestServices();
  ({ pg, fixture, repository, redis } = services);
  // The restored server and its restore_command run as the postgres OS user: it must reach the fixture's folders.
  chmodSync(fixture.dir, 0o711);
  proxy = await startRedisProxy(services.redisServer);
  for (const name of ['a', 'b', 'c']) startArchiveDaemon(name);
  await Promise.all(daemons.map((d) => d.waitForLine('ready', (line) => line.msg === 'daemon ready')));
  sampler = (async () => {
    while (sampling) {
      const atMs = Date.now();
      // A query that failed (a connection timing out on a busy host) saw nothing: no sample, rather than an empty slot.
      const sample = await sampleSlot().catch(() => undefined);
      if (sample !== undefined) samples.push({ atMs, ...sample });
      await sleepMs(100);
    }
  })();
  await waitForArchiving('a daemon archiving', 60_000);
  // The full backup every restore starts from, before the load: the last test replays all the takeovers' WAL.
  const backup = await runLifeboatCli(fixture, ['backup', 'full', '--json'], { timeoutMs: 120_000 });
  if (backup.code !== 0) throw new Error(`backup full exited ${backup.code}:\n${backup.stderr.slice(-3000)}`);
  backupId = (JSON.parse(backup.stdout) as { backupId: string }).backupId;
  // pgbench inserts ids at 50 transactions/s; a segment switch after each 4 s run completes segments across
  // the takeovers, some while nobody archives (each one costs the restore a fetch: not more than needed).
  load = await startPgbenchLoad(pg, { dir: fixture.dir, table: 'ids', clients: 2, ratePerSecond: 50, runSeconds: 4, betweenRuns: () => pg.query('select pg_switch_wal()') });
}, 240_000);

afterAll(async () => {
  sampling = false;
  await Promise.all([sampler, load?.stop().catch(() => undefined)]);
  for (const pid of stopped) {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // Gone already.
    }
  }
  for (const daemon of daemons) daemon.child.kill('SIGKILL');
  await proxy?.close();
  await services?.stop();
});

describe('the archiver lease', () => {
  it('is taken once, renewed only by its holder, taken again when it expired unclaimed, released only by its holder', async () => {
    const prefix = 'leasetest';
    expect(await acquireArchiverLease(redis, prefix, 'x', 'd1', 10_000)).toBe(true);
    expect(await acquireArchiverLease(redis, prefix, 'x', 'd2', 10_000)).toBe(false);
    // Already ours (a late attempt from before a Redis outage took it): acquiring again says so.
    expect(await acquireArchiverLease(redis, prefix, 'x', 'd1', 10_000)).toBe(true);
    expect(await renewArchiverLease(redis, prefix, 'x', 'd1', 10_000)).toBe('held');
    expect(await renewArchiverLease(redis, prefix, 'x', 'd2', 10_000)).toBe('lost');
    await releaseArchiverLease(redis, prefix, 'x', 'd2');
    expect(await readArchiverLeaseHolder(redis, prefix, 'x')).toBe('d1');
    // Expired with nobody taking it (a holder cut off from Redis, then back): its renewal takes it again.
    await redis.del(archiverLeaseKey(prefix, 'x'));
    expect(await renewArchiverLease(redis, prefix, 'x', 'd1', 10_000)).toBe('held');
    expect(await redis.pttl(archiverLeaseKey(prefix, 'x'))).toBeGreaterThan(5_000);
    // Taken by another meanwhile: the old holder learns it lost.
    await redis.set(archiverLeaseKey(prefix, 'x'), 'd2', 'PX', 10_000);
    expect(await renewArchiverLease(redis, prefix, 'x', 'd1', 10_000)).toBe('lost');
    await releaseArchiverLease(redis, prefix, 'x', 'd2');
    expect(await readArchiverLeaseHolder(redis, prefix, 'x')).toBeUndefined();
  });
});

describe('one elected WAL archiver per cluster, under pgbench load', () => {
  it('elects one daemon, which streams on the slot while the others wait', async () => {
    const { daemon } = await waitForArchiving('a daemon archiving', 60_000);
    // Steady state for a few renewals: the holder stays, one walsender.
    await sleepMs(LEASE_SECONDS * 1000);
    expect(await holderDaemon()).toBe(daemon);
    const others = daemons.filter((d) => d !== daemon);
    for (const other of others) expect(other.lines.some((l) => l.msg === 'archiver lease taken: starting the WAL archiver')).toBe(false);
    const status = startCli(['status', '--json'], { configPath: daemon.configPath, env: fixture.env, cwd: fixture.dir });
    const result = await status.done;
    expect(result.code, result.stderr).toBe(0);
    const parsed = JSON.parse(result.stdout) as { clusters: { archiver: { holder?: string; lastArchivedLsn?: string } }[] };
    expect(parsed.clusters[0]!.archiver.holder).toBe(await redis.get(archiverLeaseKey(PREFIX, 'main')));
    expect(parsed.clusters[0]!.archiver.holder).toContain(`:${daemon.pid}:`);
    expect(load!.runs()).toBeGreaterThan(0);
  }, 120_000);

  it('the holder restarts its archiver process when it dies, keeping the lease', async () => {
    const { daemon, activePid } = await waitForArchiving('a daemon archiving', 30_000);
    const forked = daemon.lines.filter((l) => l.msg === 'WAL archiver process forked');
    const child = forked.at(-1)!.pid as number;
    process.kill(child, 'SIGKILL');
    await daemon.waitForLine('restart noticed', (l) => l.msg === 'the WAL archiver process stopped; restarting it' && l.pid === child, 30_000);
    await daemon.waitForLine('restarted', (l) => l.msg === 'WAL archiver process forked' && l.pid !== child && !forked.includes(l), 30_000);
    // The killed child's pg_receivewal is an orphan: the new archiver ends it and streams again itself.
    const again = await waitForArchiving('the holder archiving again', 60_000, undefined, activePid);
    expect(again.daemon).toBe(daemon);
  }, 120_000);

  it('a SIGKILLed holder daemon is replaced within the TTL plus 10 s', async () => {
    const { daemon: old, activePid: oldPid } = await waitForArchiving('a daemon archiving', 30_000);
    const oldTree = listProcessTree(old.pid).filter((p) => p !== old.pid);
    const killedMs = Date.now();
    old.child.kill('SIGKILL');
    const { daemon: next } = await waitForArchiving('another daemon archiving', (LEASE_SECONDS + 10) * 1000, old, oldPid);
    const takeoverMs = Date.now() - killedMs;
    console.log(`takeover after SIGKILL: ${takeoverMs} ms (lease ${LEASE_SECONDS} s)`);
    expect(next).not.toBe(old);
    expect(takeoverMs).toBeLessThan((LEASE_SECONDS + 10) * 1000);
    // The killed daemon's archiver child and its pg_receivewal stop on their own.
    await waitForProcessesGone(oldTree, 60_000);
    await replaceDaemon(old, 'd');
  }, 120_000);

  it('a frozen holder is replaced, and after SIGCONT it stands down without touching the new walsender', async () => {
    const { daemon: old, activePid: oldPid } = await waitForArchiving('a daemon archiving', 30_000);
    const tree = listProcessTree(old.pid);
    for (const pid of tree) process.kill(pid, 'SIGSTOP');
    stopped.push(...tree);
    const frozenMs = Date.now();
    const { daemon: next, activePid: newPid } = await waitForArchiving('another daemon archiving', (LEASE_SECONDS + 10) * 1000, old, oldPid);
    const takenMs = Date.now();
    console.log(`takeover after SIGSTOP: ${takenMs - frozenMs} ms`);
    // Frozen past the TTL, then thawed.
    await sleepMs(Math.max(0, frozenMs + LEASE_SECONDS * 1000 + 1000 - Date.now()));
    const thawedMs = Date.now();
    for (const pid of tree) process.kill(pid, 'SIGCONT');
    await old.waitForLine('stands down', (l) => l.msg === 'another daemon holds the archiver lease: standing down' && loggedSince(thawedMs - 1000)(l), 30_000);
    await waitForProcessesGone(tree.filter((p) => p !== old.pid), 60_000);
    // A few more seconds under load: the new walsender was never disturbed.
    await sleepMs(3000);
    expect(await holderDaemon()).toBe(next);
    expect(samplesOtherThan(newPid, takenMs)).toEqual([]);
  }, 150_000);

  it('a holder daemon frozen alone is replaced; its archiver child never takes the slot back, and the thawed daemon stands down', async () => {
    const { daemon: old, activePid: oldPid } = await waitForArchiving('a daemon archiving', 30_000);
    const children = old.descendants();
    const archiverPid = old.lines.filter((l) => l.msg === 'WAL archiver process forked').at(-1)!.pid as number;
    expect(children).toContain(archiverPid);
    process.kill(old.pid, 'SIGSTOP');
    stopped.push(old.pid);
    const frozenMs = Date.now();
    const { daemon: next, activePid: newPid } = await waitForArchiving('another daemon archiving', (LEASE_SECONDS + 10) * 1000, old, oldPid);
    const takenMs = Date.now();
    console.log(`takeover from a daemon frozen alone: ${takenMs - frozenMs} ms`);
    // Its daemon silent past the lease, the child stops archiving on its own (it is a zombie of the frozen daemon).
    await waitForProcessesGone(children, 30_000);
    const childStop = old.lines.find((l) => l.msg === 'stopping the WAL archiver' && loggedSince(frozenMs)(l));
    expect(String(childStop?.reason)).toMatch(/has not confirmed the archiver lease/);
    const leaseTaken = next.lines.find((l) => l.msg === 'archiver lease taken: starting the WAL archiver' && loggedSince(frozenMs)(l));
    const [childStopMs, leaseTakenMs] = [Date.parse(String(childStop?.time)), Date.parse(String(leaseTaken?.time))];
    console.log(`after the freeze: the child stopped at ${childStopMs - frozenMs} ms, the lease was taken at ${leaseTakenMs - frozenMs} ms`);
    // Before another daemon can hold the lease: the new holder never races a child that still restarts its receiver.
    expect(childStopMs).toBeLessThan(leaseTakenMs);
    // Frozen for twice the TTL: time for a child or a daemon that wanted the slot back to try.
    await sleepMs(Math.max(0, frozenMs + 2 * LEASE_SECONDS * 1000 - Date.now()));
    const thawedMs = Date.now();
    process.kill(old.pid, 'SIGCONT');
    await old.waitForLine('stands down', (l) => l.msg === 'another daemon holds the archiver lease: standing down' && loggedSince(thawedMs - 1000)(l), 30_000);
    // Two more renewals: the thawed daemon starts no archiver again.
    await sleepMs(2 * LEASE_SECONDS * 1000 * (2 / 3));
    expect(await holderDaemon()).toBe(next);
    expect(old.descendants()).toEqual([]);
    expect(old.lines.filter((l) => l.msg === 'WAL archiver process forked' && loggedSince(thawedMs - 1000)(l))).toEqual([]);
    expect(samplesOtherThan(newPid, takenMs)).toEqual([]);
  }, 150_000);

  it('a holder stopped by SIGTERM ships, frees the lease and exits 0; another takes over', async () => {
    const { daemon: old, activePid: oldPid } = await waitForArchiving('a daemon archiving', 30_000);
    const termMs = Date.now();
    old.child.kill('SIGTERM');
    const [exit, next] = await Promise.all([old.exited, waitForArchiving('another daemon archiving', (LEASE_SECONDS + 30) * 1000, old, oldPid)]);
    console.log(`takeover after SIGTERM: ${Date.now() - termMs} ms; daemon exited after ${exit.atMs - termMs} ms`);
    expect(exit.code, old.output().slice(-2000)).toBe(0);
    expect(old.lines.some((l) => l.msg === 'WAL archiver stopped')).toBe(true);
    expect(next.daemon).not.toBe(old);
    await replaceDaemon(old, 'e');
  }, 120_000);

  it('the holder keeps archiving while Redis is unreachable past the TTL; one archiver remains when it returns', async () => {
    expect(daemons).toHaveLength(3);
    const { daemon: holder, activePid } = await waitForArchiving('a daemon archiving', 30_000);
    const cutMs = Date.now();
    proxy.pause();
    await holder.waitForLine('redis unreachable', (l) => l.msg === 'redis unreachable for the archiver lease; archiving on' && loggedSince(cutMs)(l), 30_000);
    await sleepMs(Math.max(0, cutMs + 2 * LEASE_SECONDS * 1000 + 1000 - Date.now()));
    expect(samplesOtherThan(activePid, cutMs + 200)).toEqual([]);
    const [row] = await pg.query<{ name: string }>('select pg_walfile_name(pg_switch_wal()) as name');
    await waitFor('a segment archived without Redis', async () => (await readStoredWal(repository.storage, 'main')).segments.includes(row!.name as never) || undefined, { timeoutMs: 30_000, intervalMs: 500 });
    proxy.resume();
    const returned = Date.now();
    await waitForArchiving('an archiver with the lease after Redis returned', 60_000);
    await sleepMs(Math.max(0, returned + 2 * LEASE_SECONDS * 1000 - Date.now()));
    const archiving = daemons.filter((d) => d.descendants().length > 0);
    expect(archiving.map((d) => d.name)).toEqual([(await holderDaemon())!.name]);
  }, 150_000);

  it('never had two walsenders, and lost no committed id: the WAL has no gap, verify passes, a --latest restore holds every id', async () => {
    const committed = await load!.stop();
    console.log(`pgbench: ${committed.runs} runs, ${committed.transactions} transactions, ${committed.committedIds.length} ids`);
    expect(committed.runs).toBeGreaterThan(10);
    // Every transaction pgbench saw commit is in the table, and nothing else is: the ids are the committed set.
    expect(committed.committedIds).toHaveLength(committed.transactions);
    const [row] = await pg.query<{ name: string }>('select pg_walfile_name(pg_switch_wal()) as name');
    await waitFor('the switched segment archived', async () => (await readStoredWal(repository.storage, 'main')).segments.includes(row!.name as never) || undefined, { timeoutMs: 60_000, intervalMs: 500 });
    sampling = false;
    await sampler;
    expect(samples.length).toBeGreaterThan(300);
    expect(samples.filter((s) => s.receivers > 1)).toEqual([]);
    const stored = await readStoredWal(repository.storage, 'main');
    console.log(`${stored.segments.length} segments archived (${stored.segments[0]} - ${stored.segments.at(-1)}), ${samples.length} slot samples`);
    expect(stored.segments.length).toBeGreaterThan(12);
    expect(findGaps(stored.segments, toTimelineId(1), WAL_SEGMENT_BYTES)).toEqual([]);
    for (const [segment, count] of stored.objectsPerSegment) expect(count, segment).toBe(1);

    // The daemons stop (the holder ships its last partial), so the repository holds still while it is read.
    for (const daemon of daemons) daemon.child.kill('SIGTERM');
    for (const daemon of daemons) expect((await daemon.exited).code, `${daemon.name}: ${daemon.output().slice(-2000)}`).toBe(0);
    const verify = await runLifeboatCli(fixture, ['verify', '--json']);
    console.log(`verify: ${verify.elapsedMs} ms`);
    expect(verify.code, verify.stderr.slice(-3000)).toBe(0);
    const [report] = (JSON.parse(verify.stdout) as { reports: { ok: boolean; problems: unknown[]; missingWalSegments: unknown[]; backupsChecked: string[] }[] }).reports;
    expect(report).toMatchObject({ ok: true, problems: [], missingWalSegments: [], backupsChecked: [backupId] });

    // restore_command reads the repository as the postgres OS user; the daemons wrote its objects 0600.
    await runProcess('chmod', ['-R', 'go+rX', repositoryPath(fixture)]);
    const runner = createRestoreRunner({
      config: fixture.config, storage: repository.storage, keys: repository.keys, log: createLogger({ level: 'warn' }),
      baseDir: join(fixture.dir, 'restores'), superuser: pg.superuser, bindir: pg.bindir,
    });
    mkdirSync(join(fixture.dir, 'restores'));
    const targetDir = join(fixture.dir, 'restores', 'latest');
    const port = await freePort();
    runner.track(targetDir);
    try {
      const restore = await runLifeboatCli(fixture, ['restore', '--target-dir', targetDir, '--latest', '--start', '--port', String(port), '--json'], { timeoutMs: 180_000 });
      console.log(`restore --latest --start: ${restore.elapsedMs} ms`);
      expect(restore.code, restore.stderr.slice(-3000)).toBe(0);
      expect(JSON.parse(restore.stdout)).toMatchObject({ backupId, reached: { state: 'promoted' }, allObjectsPresent: true });
      const restored = (await runner.query<{ id: string }>({ port }, 'select id::text as id from ids order by id')).map((r) => Number(r.id));
      const present = new Set(restored);
      expect(committed.committedIds.filter((id) => !present.has(id))).toEqual([]);
      expect(restored).toHaveLength(committed.committedIds.length);
    } finally {
      await runner.stopAll();
    }
  }, 240_000);
});
