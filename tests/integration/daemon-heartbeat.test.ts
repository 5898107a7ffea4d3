// The daemon's drill heartbeat against real PostgreSQL and Redis: two daemons serving one cluster at
// heartbeatSeconds 1 write about one row a second between them (not two), prune rows older than a day, and a
// graceful stop closes the connection while the other daemon carries on; heartbeatSeconds 0 writes nothing; a
// role without the table's privileges gets the exact statement, logged once, and writes once it is run; a writer
// that cannot reach Redis writes every beat. And the readers a drill uses, on the rows written.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHeartbeatWriter } from '../../src/daemon/heartbeat-writer.js';
import { countHeartbeatsAfter, ensureHeartbeatTable, readNewestCommitTime, readNewestHeartbeat } from '../../src/drills/heartbeat/index.js';
import { heartbeatClaimKey } from '../../src/jobs/redis-keys.js';
import { connectPostgres } from '../../src/postgres/index.js';
import { createCapturedLog } from '../harness/captured-log.js';
import { startDaemon, startDaemonTestServices, writeDaemonConfig, type DaemonProcess, type DaemonTestServices, type LogLine } from '../harness/daemon-runner.js';
import { freePort } from '../harness/free-port.js';
import type { LifeboatFixture } from '../harness/lifeboat-fixture.js';
import type { PostgresServer } from '../harness/postgres.js';
import { waitFor } from '../harness/wait-for.js';

const PREFIX = 'lbheart';
const LEAST = 'lb_noheart';
let services: DaemonTestServices | undefined;
let pg: PostgresServer;
let fixture: LifeboatFixture;
let redis: Redis;
const daemons: DaemonProcess[] = [];
/** a and b: heartbeat at 1 s; off: heartbeatSeconds 0; least: 1 s, as a role without the table's privileges. */
let a: DaemonProcess;
let b: DaemonProcess;
let off: DaemonProcess;
let least: DaemonProcess;

function start(name: string, cluster: Record<string, unknown>): DaemonProcess {
  const configPath = writeDaemonConfig(fixture, name, {
    top: { redis: { url: services!.redisServer.url, prefix: PREFIX }, daemon: { listen: '127.0.0.1:0', jobs: ['verify'] } },
    cluster: { schedules: {}, ...cluster },
  });
  const daemon = startDaemon(fixture, name, configPath);
  daemons.push(daemon);
  return daemon;
}

async function primaryNow(): Promise<string> {
  const [row] = await pg.query<{ now: string }>("select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') as now");
  return row!.now;
}

async function rowsBetween(from: string, to: string): Promise<number> {
  const [row] = await pg.query<{ n: number }>('select count(*)::int as n from lifeboat.heartbeat where written_at > $1 and written_at <= $2', [from, to]);
  return row!.n;
}

async function heartbeatBackends(): Promise<number> {
  const [row] = await pg.query<{ n: number }>("select count(*)::int as n from pg_stat_activity where application_name = 'lifeboat heartbeat'");
  return row!.n;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const heartbeatErrors = (daemon: DaemonProcess): LogLine[] => daemon.lines.filter((line) => String(line.msg).startsWith('cannot write the drill heartbeat'));

beforeAll(async () => {
  services = await startDaemonTestServices();
  ({ pg, fixture, redis } = services);
  await pg.query(`create role ${LEAST} with login password '${pg.lifeboat.password.replaceAll("'", "''")}'`);
  // The table as the daemon makes it (the harness's role owns the schema), with rows of two days ago and of 23 h ago.
  const client = await connectPostgres(fixture.config.clusters[0]!.postgres, 'lifeboat-test');
  try {
    await ensureHeartbeatTable(client, pg.lifeboat.user, 'postgres');
  } finally {
    await client.end();
  }
  await pg.query("insert into lifeboat.heartbeat (written_at) select now() - interval '2 days' from generate_series(1, 3)");
  await pg.query("insert into lifeboat.heartbeat (written_at) values (now() - interval '23 hours')");
  // All four at once (they start in parallel, a few seconds each); the tests stop them in turn.
  a = start('a', { drill: { heartbeatSeconds: 1 } });
  b = start('b', { drill: { heartbeatSeconds: 1 } });
  off = start('off', { drill: { heartbeatSeconds: 0 } });
  least = start('least', {
    drill: { heartbeatSeconds: 1 },
    postgres: { host: pg.host, port: pg.port, user: LEAST, dbname: 'postgres', password: { env: 'FIXTURE_PGPASSWORD' }, sslmode: 'disable', bindir: pg.bindir },
  });
  await Promise.all(daemons.map((d) => d.waitForLine('ready', (line) => line.msg === 'daemon ready')));
}, 120_000);

afterAll(async () => {
  for (const daemon of daemons) daemon.child.kill('SIGKILL');
  await services?.stop();
});

describe('the drill heartbeat', () => {
  it('two daemons at 1 s write about one row a second between them, prune day-old rows, and stop cleanly', async () => {
    await waitFor('both daemons connected', async () => (await heartbeatBackends()) === 2, { timeoutMs: 15_000 });
    await waitFor('a heartbeat', async () => (await pg.query("select 1 from lifeboat.heartbeat where written_at > now() - interval '5 s'")).length > 0, { timeoutMs: 10_000 });

    const from = await primaryNow();
    await sleep(6_000);
    const to = await primaryNow();
    const seconds = (Date.parse(to) - Date.parse(from)) / 1000;
    const rows = await rowsBetween(from, to);
    // One writer per beat: ~6; two writers without the claim would write ~12.
    expect(rows, `${rows} rows in ${seconds} s`).toBeGreaterThanOrEqual(Math.floor(seconds * 0.7));
    expect(rows, `${rows} rows in ${seconds} s`).toBeLessThanOrEqual(Math.ceil(seconds * 1.3));

    // Each writer prunes with its first beat: the rows of two days ago are gone, the one of 23 h ago stays.
    const [old] = await pg.query<{ stale: number; day: number }>(
      "select count(*) filter (where written_at < now() - interval '24 hours')::int as stale, count(*) filter (where written_at < now() - interval '22 hours')::int as day from lifeboat.heartbeat",
    );
    expect(old).toEqual({ stale: 0, day: 1 });

    // The readers a drill uses: the newest at or before an instant, the heartbeats after it, the newest commit.
    const client = await connectPostgres(fixture.config.clusters[0]!.postgres, 'lifeboat-test');
    try {
      const atFrom = await readNewestHeartbeat(client, from);
      expect(atFrom!.writtenAt.getTime()).toBeLessThanOrEqual(Date.parse(from));
      expect(await countHeartbeatsAfter(client, atFrom!.seq, to)).toBe(rows);
      const newest = await readNewestHeartbeat(client);
      expect(newest!.seq).toBeGreaterThan(atFrom!.seq);
      const bounded = await readNewestCommitTime(client, to);
      expect(bounded.method === 'commit-timestamp' && bounded.newestCommitTime.getTime()).toBeLessThanOrEqual(Date.parse(to));
      expect((await readNewestCommitTime(client)).method).toBe('commit-timestamp');
    } finally {
      await client.end();
    }

    // SIGTERM the writer holding the claim: it exits 0 and closes its connection; the other writes on.
    const holderId = await redis.get(heartbeatClaimKey(PREFIX, 'main'));
    const holder = [a, b].find((d) => holderId?.split(':')[1] === String(d.pid))!;
    const other = holder === a ? b : a;
    holder.child.kill('SIGTERM');
    expect((await holder.exited).code).toBe(0);
    await waitFor('one heartbeat connection left', async () => (await heartbeatBackends()) === 1, { timeoutMs: 5_000 });
    const afterStop = await primaryNow();
    await sleep(2_500);
    expect(await rowsBetween(afterStop, await primaryNow())).toBeGreaterThanOrEqual(1);
    other.child.kill('SIGTERM');
    expect((await other.exited).code).toBe(0);
    expect([...heartbeatErrors(a), ...heartbeatErrors(b)]).toEqual([]);
  }, 60_000);

  it('heartbeatSeconds 0 writes nothing; a role without the table privileges is told the statement once, and writes after it', async () => {
    // a and b are gone: nothing else writes while off and least run.
    const since = await primaryNow();
    const error = await least.waitForLine('the heartbeat error', (line) => String(line.msg).startsWith('cannot write the drill heartbeat'), 10_000);
    expect(error.code).toBe('postgresConfig');
    expect(error.err).toBe(`role "${LEAST}" lacks SELECT, INSERT, DELETE on lifeboat.heartbeat in database "postgres", needed by the daemon for the drill heartbeat`);
    const statement = `GRANT USAGE ON SCHEMA lifeboat TO "${LEAST}"; GRANT SELECT, INSERT, DELETE ON lifeboat.heartbeat TO "${LEAST}";`;
    expect(error.hint).toContain(`as a superuser, in database "postgres", run: ${statement} (or set clusters[].drill.heartbeatSeconds: 0`);
    await sleep(2_000);
    expect(await rowsBetween(since, await primaryNow())).toBe(0);
    expect(off.lines.some((line) => /heartbeat/.test(String(line.msg)))).toBe(false);
    // Failing since it started (a dozen seconds, retried with backoff), logged once; the daemon serves on.
    expect(heartbeatErrors(least)).toHaveLength(1);
    expect(least.lines.filter((line) => line.level === 'error' || line.level === 'fatal')).toHaveLength(1);

    off.child.kill('SIGTERM');
    expect((await off.exited).code).toBe(0);
    // The statement as logged, run as it says: no sequence grant needed (an identity column).
    for (const grant of statement.split('; ')) await pg.query(grant);
    await least.waitForLine('writing resumed', (line) => line.msg === 'drill heartbeat written again', 35_000);
    expect(heartbeatErrors(least)).toHaveLength(1);
    least.child.kill('SIGTERM');
    expect((await least.exited).code).toBe(0);
  }, 60_000);

  it('writes every beat when Redis cannot be reached, saying so once', async () => {
    const deadRedis = new Redis({ host: '127.0.0.1', port: await freePort(), maxRetriesPerRequest: null, lazyConnect: true, retryStrategy: () => 200 });
    deadRedis.on('error', () => undefined);
    const captured = createCapturedLog('info');
    const config = { ...fixture.config, clusters: fixture.config.clusters.map((c) => ({ ...c, drill: { ...c.drill, heartbeatSeconds: 1 } })) };
    const writers = ['x', 'y'].map((daemonId) => startHeartbeatWriter({ config, clusters: ['main'], redis: deadRedis, prefix: PREFIX, daemonId, log: captured.log }));
    const from = await primaryNow();
    try {
      await sleep(3_500);
    } finally {
      await Promise.all(writers.map((writer) => writer.stop()));
      deadRedis.disconnect();
    }
    const rows = await rowsBetween(from, await primaryNow());
    // Both write each beat (3-4 each): duplicates, never a gap.
    expect(rows).toBeGreaterThanOrEqual(5);
    expect(captured.withMessage('redis unreachable for the heartbeat claim; writing every beat until it answers')).toHaveLength(2);
    await waitFor('the writers\' connections closed', async () => (await heartbeatBackends()) === 0, { timeoutMs: 5_000 });
  }, 30_000);

  it('without the heartbeat, RPO is unmeasured when track_commit_timestamp is off', async () => {
    await pg.query('alter system set track_commit_timestamp = off');
    await pg.restart();
    const client = await connectPostgres(fixture.config.clusters[0]!.postgres, 'lifeboat-test');
    try {
      expect(await readNewestCommitTime(client)).toEqual({ method: 'unmeasured', reason: expect.stringContaining('track_commit_timestamp is off') });
    } finally {
      await client.end();
    }
  }, 30_000);
});
