// The daemons elect one WAL archiver per cluster through a Redis lease, against real Redis and PostgreSQL under
// light load: three daemons with the `archive` role serve one cluster, and at no sample are two walsenders
// streaming; SIGKILL of the holder's daemon: another archives within TTL + 10 s; SIGSTOP of the holder (its whole
// process tree) past the TTL: another takes over, and after SIGCONT the old one stands down without touching the
// new walsender; afterwards the repository's WAL has no gap and `status` names the holder.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toTimelineId } from '../../src/postgres/index.js';
import type { Repository } from '../../src/repository/open-repository.js';
import { acquireArchiverLease, readArchiverLeaseHolder, releaseArchiverLease, renewArchiverLease } from '../../src/jobs/archiver-lease.js';
import { archiverLeaseKey } from '../../src/jobs/redis-keys.js';
import { startDaemon, writeDaemonConfig, type DaemonProcess } from '../harness/daemon-runner.js';
import { startDaemonTestServices, type DaemonTestServices } from '../harness/daemon-runner.js';
import type { LifeboatFixture } from '../harness/lifeboat-fixture.js';
import { startCli } from '../harness/lifeboat-cli.js';
import type { PostgresServer } from '../harness/postgres.js';
import { listProcessTree, waitForProcessesGone } from '../harness/process-tree.js';
import type { RedisServer } from '../harness/redis.js';
import { WAL_SEGMENT_BYTES, findGaps, readStoredWal } from '../harness/wal-archiver-runner.js';
import { waitFor } from '../harness/wait-for.js';

const PREFIX = 'lbarch';
const LEASE_SECONDS = 5;
const SLOT = 'lifeboat';
let pg: PostgresServer;
let redisServer: RedisServer;
let redis: Redis;
let services: DaemonTestServices | undefined;
let fixture: LifeboatFixture;
let repository: Repository;
const daemons: DaemonProcess[] = [];
const stopped: number[] = [];

/** Every sample of the slot and the walsenders, taken beside the whole test. */
const samples: { atMs: number; activePid: number | null; walsenders: number }[] = [];
let sampling = true;
let sampler: Promise<void> | undefined;
let load: Promise<void> | undefined;
let inserted = 0;

/** A TCP proxy between the daemons and Redis that can cut them off (connections dropped, new ones black-holed). */
interface RedisProxy {
  port: number;
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}
let proxy: RedisProxy;

async function startRedisProxy(target: RedisServer): Promise<RedisProxy> {
  let paused = false;
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => undefined);
    if (paused) return; // Black hole: accepted, never answered.
    const upstream = createConnection(target.port, target.host);
    open.add(upstream);
    upstream.on('close', () => {
      open.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const dropAll = (): void => {
    for (const socket of open) socket.destroy();
  };
  return {
    port: (server.address() as { port: number }).port,
    pause: () => {
      paused = true;
      dropAll();
    },
    resume: () => {
      paused = false;
      dropAll();
    },
    close: () => {
      dropAll();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

async function sampleSlot(): Promise<{ activePid: number | null; walsenders: number }> {
  const [row] = await pg.query<{ active_pid: number | null; walsenders: number }>(
    `select (select active_pid from pg_replication_slots where slot_name = $1) as active_pid,
            (select count(*)::int from pg_stat_activity where backend_type = 'walsender') as walsenders`,
    [SLOT],
  );
  return { activePid: row!.active_pid, walsenders: row!.walsenders };
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

beforeAll(async () => {
  services = await startDaemonTestServices();
  ({ pg, redisServer, fixture, repository, redis } = services);
  proxy = await startRedisProxy(redisServer);
  await pg.query('create table ids (id serial primary key, payload text)');
  for (const name of ['a', 'b', 'c']) {
    const configPath = writeDaemonConfig(fixture, name, {
      top: { redis: { url: `redis://127.0.0.1:${proxy.port}/0`, prefix: PREFIX }, daemon: { listen: '127.0.0.1:0', jobs: ['archive'], archiverLeaseSeconds: LEASE_SECONDS } },
      cluster: { schedules: {} },
    });
    daemons.push(startDaemon(fixture, name, configPath));
  }
  await Promise.all(daemons.map((d) => d.waitForLine('ready', (line) => line.msg === 'daemon ready')));
  sampler = (async () => {
    while (sampling) {
      samples.push({ atMs: Date.now(), ...(await sampleSlot().catch(() => ({ activePid: null, walsenders: 0 }))) });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  load = (async () => {
    while (sampling) {
      await pg.query("insert into ids (payload) select repeat(md5(g::text), 8) from generate_series(1, 20) g").catch(() => undefined);
      inserted += 20;
      // A segment switch every ~2 s: many segments complete across the takeovers, some while nobody archives.
      if (inserted % 800 === 0) await pg.query('select pg_switch_wal()').catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
}, 240_000);

afterAll(async () => {
  sampling = false;
  await Promise.all([sampler, load]);
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

describe('one elected WAL archiver per cluster', () => {
  it('elects one daemon, which streams on the slot while the others wait', async () => {
    const { daemon } = await waitForArchiving('a daemon archiving', 60_000);
    // Steady state for a few renewals: the holder stays, one walsender.
    const since = Date.now();
    await waitFor('a few lease renewals', () => Date.now() - since > 3 * 1000 * (LEASE_SECONDS / 3) || undefined, { timeoutMs: 20_000 });
    expect(await holderDaemon()).toBe(daemon);
    const others = daemons.filter((d) => d !== daemon);
    for (const other of others) expect(other.lines.some((l) => l.msg === 'archiver lease taken: starting the WAL archiver')).toBe(false);
    const status = startCli(['status', '--json'], { configPath: daemon.configPath, env: fixture.env, cwd: fixture.dir });
    const result = await status.done;
    expect(result.code, result.stderr).toBe(0);
    const parsed = JSON.parse(result.stdout) as { clusters: { archiver: { holder?: string; lastArchivedLsn?: string } }[] };
    expect(parsed.clusters[0]!.archiver.holder).toBe(await redis.get(archiverLeaseKey(PREFIX, 'main')));
    expect(parsed.clusters[0]!.archiver.holder).toContain(`:${daemon.pid}:`);
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
    daemons.splice(daemons.indexOf(old), 1);
  }, 120_000);

  it('a frozen holder is replaced, and after SIGCONT it stands down without touching the new walsender', async () => {
    const { daemon: old, activePid: oldPid } = await waitForArchiving('a daemon archiving', 30_000);
    const tree = listProcessTree(old.pid);
    for (const pid of tree) process.kill(pid, 'SIGSTOP');
    stopped.push(...tree);
    const frozenMs = Date.now();
    const { daemon: next, activePid: newPid } = await waitForArchiving('another daemon archiving', (LEASE_SECONDS + 10) * 1000, old, oldPid);
    console.log(`takeover after SIGSTOP: ${Date.now() - frozenMs} ms`);
    // Frozen past the TTL, then thawed.
    await waitFor('the TTL passed', () => Date.now() - frozenMs > LEASE_SECONDS * 1000 + 1000 || undefined, { timeoutMs: 20_000 });
    const thawedMs = Date.now();
    for (const pid of tree) process.kill(pid, 'SIGCONT');
    await old.waitForLine('stands down', (line) => line.msg === 'another daemon holds the archiver lease: standing down' && Date.parse(String(line.time)) >= thawedMs - 1000, 30_000);
    await waitForProcessesGone(tree.filter((p) => p !== old.pid), 60_000);
    // A few more seconds under load: the new walsender was never disturbed.
    const settle = Date.now();
    await waitFor('a settling period', () => Date.now() - settle > 3000 || undefined, { timeoutMs: 10_000 });
    expect(await holderDaemon()).toBe(next);
    const afterThaw = samples.filter((s) => s.atMs >= thawedMs + 200);
    expect(afterThaw.length).toBeGreaterThan(10);
    expect(afterThaw.every((s) => s.activePid === newPid), JSON.stringify(afterThaw.filter((s) => s.activePid !== newPid).slice(0, 5))).toBe(true);
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
    daemons.splice(daemons.indexOf(old), 1);
  }, 120_000);

  it('the holder keeps archiving while Redis is unreachable past the TTL; one archiver remains when it returns', async () => {
    const { daemon: holder, activePid } = await waitForArchiving('a daemon archiving', 30_000);
    const cutMs = Date.now();
    proxy.pause();
    await holder.waitForLine('redis unreachable', (l) => l.msg === 'redis unreachable for the archiver lease; archiving on' && Date.parse(String(l.time)) >= cutMs, 30_000);
    await waitFor('twice the TTL without Redis', () => Date.now() - cutMs > 2 * LEASE_SECONDS * 1000 + 1000 || undefined, { timeoutMs: 30_000 });
    const during = samples.filter((s) => s.atMs >= cutMs + 200);
    expect(during.length).toBeGreaterThan(10);
    expect(during.every((s) => s.activePid === activePid), JSON.stringify(during.filter((s) => s.activePid !== activePid).slice(0, 5))).toBe(true);
    const [row] = await pg.query<{ name: string }>('select pg_walfile_name(pg_switch_wal()) as name');
    await waitFor('a segment archived without Redis', async () => (await readStoredWal(repository.storage, 'main')).segments.includes(row!.name as never) || undefined, { timeoutMs: 30_000, intervalMs: 500 });
    proxy.resume();
    const returned = Date.now();
    await waitForArchiving('an archiver with the lease after Redis returned', 60_000);
    await waitFor('a settling period', () => Date.now() - returned > 2 * LEASE_SECONDS * 1000 || undefined, { timeoutMs: 30_000 });
    const archiving = daemons.filter((d) => d.descendants().length > 0);
    expect(archiving.map((d) => d.name)).toEqual([(await holderDaemon())!.name]);
  }, 150_000);

  it('never had two walsenders, and the archived WAL has no gap', async () => {
    const [row] = await pg.query<{ name: string }>('select pg_walfile_name(pg_switch_wal()) as name');
    const switched = row!.name;
    await waitFor('the switched segment archived', async () => (await readStoredWal(repository.storage, 'main')).segments.includes(switched as never) || undefined, { timeoutMs: 60_000, intervalMs: 500 });
    sampling = false;
    await Promise.all([sampler, load]);
    expect(inserted).toBeGreaterThan(0);
    expect(samples.length).toBeGreaterThan(100);
    expect(samples.filter((s) => s.walsenders > 1)).toEqual([]);
    const stored = await readStoredWal(repository.storage, 'main');
    console.log(`${stored.segments.length} segments archived (${stored.segments[0]} - ${stored.segments.at(-1)}), ${samples.length} slot samples`);
    expect(stored.segments.length).toBeGreaterThan(5);
    expect(findGaps(stored.segments, toTimelineId(1), WAL_SEGMENT_BYTES)).toEqual([]);
    for (const [segment, count] of stored.objectsPerSegment) expect(count, segment).toBe(1);
  }, 120_000);
});
