// A role with only LOGIN and REPLICATION, as README once said was enough: `check` must fail naming each missing
// grant with the GRANT to run (the heartbeat's schema included, unless heartbeatSeconds is 0), `wal archive` and
// `restore-point` must fail at once (postgresConfig, exit 81) naming it, a permission error from any query must
// map to postgresConfig, and after the printed statements run, `check` passes, `restore-point` works and the
// role creates and writes its heartbeat table.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureHeartbeatTable, readNewestHeartbeat, writeHeartbeat } from '../../src/drills/heartbeat/index.js';
import { connectPostgres } from '../../src/postgres/index.js';
import { LifeboatError } from '../../src/errors/index.js';
import { runLifeboatCli } from '../harness/lifeboat-cli.js';
import { createLifeboatFixture, type LifeboatFixture } from '../harness/lifeboat-fixture.js';
import { startPostgres, type PostgresServer } from '../harness/postgres.js';
import { ensureCliBuilt, startArchiverProcess } from '../harness/wal-archiver-runner.js';

const ROLE = 'lb_minimal';
let pg: PostgresServer;
let fixture: LifeboatFixture;

beforeAll(async () => {
  ensureCliBuilt();
  pg = await startPostgres();
  // A server as the role finds it in the field: no schema for the heartbeat yet (the harness makes one for its role).
  await pg.query('drop schema lifeboat');
  // Same password as the harness's lifeboat role, so the fixture's password reference works for it.
  await pg.query(`create role ${ROLE} with login replication password '${pg.lifeboat.password.replaceAll("'", "''")}'`);
  fixture = createLifeboatFixture(pg, {
    cluster: {
      postgres: { host: pg.host, port: pg.port, user: ROLE, dbname: 'postgres', password: { env: 'FIXTURE_PGPASSWORD' }, sslmode: 'disable', bindir: pg.bindir },
    },
  });
}, 120_000);

afterAll(async () => {
  fixture?.cleanup();
  await pg?.stop();
});

const WALDIR_GRANT = `GRANT EXECUTE ON FUNCTION pg_catalog.pg_ls_waldir() TO "${ROLE}";`;
const RESTORE_POINT_GRANT = `GRANT EXECUTE ON FUNCTION pg_catalog.pg_create_restore_point(text) TO "${ROLE}";`;
const HEARTBEAT_SCHEMA = `CREATE SCHEMA IF NOT EXISTS lifeboat AUTHORIZATION "${ROLE}";`;
const AS_SUPERUSER = 'HINT: as a superuser, in database "postgres", run: ';

describe('privileges of a LOGIN REPLICATION role', () => {
  it('check fails naming each missing grant and the GRANT to run, and prints the version as 15.20', async () => {
    const result = await runLifeboatCli(fixture, ['check']);
    expect(result.code).toBe(81);
    expect(result.stdout).toMatch(/ok {4}privilege REPLICATION: granted/);
    expect(result.stdout).toContain('FAIL  privilege EXECUTE on pg_catalog.pg_ls_waldir()');
    expect(result.stdout).toContain(`${AS_SUPERUSER}${WALDIR_GRANT}`);
    expect(result.stdout).toContain('FAIL  privilege EXECUTE on pg_catalog.pg_create_restore_point(text)');
    expect(result.stdout).toContain(`${AS_SUPERUSER}${RESTORE_POINT_GRANT}`);
    expect(result.stdout).toContain(`FAIL  privilege SELECT, INSERT, DELETE on lifeboat.heartbeat: role "${ROLE}" lacks SELECT, INSERT, DELETE on lifeboat.heartbeat, needed by daemon`);
    expect(result.stdout).toContain(`${AS_SUPERUSER}${HEARTBEAT_SCHEMA}`);
    expect(result.stdout).toMatch(new RegExp(`postgres connection: PostgreSQL ${pg.version}\\.\\d+ at `));
    expect(result.stdout).not.toMatch(/PostgreSQL \d{5,}/);
  });

  it('with heartbeatSeconds 0, check neither probes nor asks for the heartbeat table', async () => {
    const noHeartbeat = createLifeboatFixture(pg, {
      cluster: {
        postgres: { host: pg.host, port: pg.port, user: ROLE, dbname: 'postgres', password: { env: 'FIXTURE_PGPASSWORD' }, sslmode: 'disable', bindir: pg.bindir },
        drill: { heartbeatSeconds: 0 },
      },
    });
    try {
      const result = await runLifeboatCli(noHeartbeat, ['check']);
      expect(result.stdout).toContain('FAIL  privilege EXECUTE on pg_catalog.pg_ls_waldir()');
      expect(result.stdout).not.toContain('lifeboat.heartbeat');
      expect(result.stdout).not.toContain('CREATE SCHEMA');
    } finally {
      noHeartbeat.cleanup();
    }
  });

  it('wal archive fails at once with postgresConfig naming the grant, instead of retrying', async () => {
    const result = await runLifeboatCli(fixture, ['wal', 'archive'], { timeoutMs: 60_000 });
    expect(result.timedOut).toBe(false);
    expect(result.code).toBe(81);
    expect(result.elapsedMs).toBeLessThan(30_000);
    expect(result.stderr).toContain(`error[postgresConfig]: role "${ROLE}" lacks EXECUTE on pg_catalog.pg_ls_waldir(), needed by wal archive`);
    expect(result.stderr).toContain(WALDIR_GRANT);
    expect(result.stderr).not.toContain('retrying');
  });

  it('restore-point fails with postgresConfig naming the grant, not as a bug', async () => {
    const result = await runLifeboatCli(fixture, ['restore-point', 'before-grant'], { timeoutMs: 60_000 });
    expect(result.code).toBe(81);
    expect(result.stderr).toContain(`error[postgresConfig]: role "${ROLE}" lacks EXECUTE on pg_catalog.pg_create_restore_point(text), needed by restore-point`);
    expect(result.stderr).toContain(RESTORE_POINT_GRANT);
    expect(result.stderr).not.toContain('bug in lifeboat');
  });

  it('a permission error from any query is a postgresConfig error naming the grant (SQLSTATE 42501)', async () => {
    const client = await connectPostgres(fixture.config.clusters[0]!.postgres, 'lifeboat-test');
    try {
      const error = await client.query('select count(*) from pg_ls_waldir()').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LifeboatError);
      expect(error).toMatchObject({ code: 'postgresConfig' });
      expect((error as LifeboatError).hint).toContain(WALDIR_GRANT);
      const other = await client.query('select pg_read_file($1)', ['postgresql.conf']).catch((e: unknown) => e);
      expect(other).toMatchObject({ code: 'postgresConfig', message: expect.stringContaining('permission denied for function pg_read_file') });
    } finally {
      await client.end();
    }
  });

  it('backup full without REPLICATION fails naming the ALTER ROLE to run', async () => {
    await pg.query(`create role lb_login_only with login password '${pg.lifeboat.password.replaceAll("'", "''")}'`);
    const loginOnly = createLifeboatFixture(pg, {
      cluster: {
        postgres: { host: pg.host, port: pg.port, user: 'lb_login_only', dbname: 'postgres', password: { env: 'FIXTURE_PGPASSWORD' }, sslmode: 'disable', bindir: pg.bindir },
      },
    });
    try {
      const result = await runLifeboatCli(loginOnly, ['backup', 'full'], { timeoutMs: 60_000 });
      expect(result.code).toBe(81);
      expect(result.stderr).toContain('error[postgresConfig]: role "lb_login_only" lacks REPLICATION, needed by backup full');
      expect(result.stderr).toContain('ALTER ROLE "lb_login_only" REPLICATION;');
    } finally {
      loginOnly.cleanup();
    }
  });

  it('after running the statements check printed, check passes, restore-point works and the heartbeat is written', async () => {
    const report = await runLifeboatCli(fixture, ['check']);
    const grants = [...report.stdout.matchAll(/HINT: as a superuser, in database "postgres", run: ([^\n]+;)$/gm)].map((match) => match[1]!);
    expect(grants.sort()).toEqual([HEARTBEAT_SCHEMA, RESTORE_POINT_GRANT, WALDIR_GRANT].sort());
    for (const grant of grants) await pg.query(grant);

    const check = await runLifeboatCli(fixture, ['check']);
    expect(check.stdout).toContain('all checks passed');
    expect(check.code).toBe(0);
    const point = await runLifeboatCli(fixture, ['restore-point', 'after-grant']);
    expect(point.stderr).toBe('');
    expect(point.code).toBe(0);
    expect(point.stdout).toMatch(/restore point "after-grant" created at [0-9A-F]+\/[0-9A-F]+ on timeline 1/);

    // The schema is the role's: it creates the table itself, and owns it.
    const client = await connectPostgres(fixture.config.clusters[0]!.postgres, 'lifeboat-test');
    try {
      await ensureHeartbeatTable(client, ROLE, 'postgres');
      const { heartbeat } = await writeHeartbeat(client);
      expect(await readNewestHeartbeat(client)).toEqual(heartbeat);
    } finally {
      await client.end();
    }
    const [owner] = await pg.query<{ owner: string }>("select relowner::regrole::text as owner from pg_class where oid = 'lifeboat.heartbeat'::regclass");
    expect(owner).toEqual({ owner: ROLE });
  });

  it('with exactly those grants, wal archive runs and a full backup completes', async () => {
    const archiver = startArchiverProcess(fixture);
    try {
      const backup = await runLifeboatCli(fixture, ['backup', 'full', '--json'], { timeoutMs: 180_000 });
      expect(backup.code, `${backup.stderr}\n${archiver.outputTail()}`).toBe(0);
      expect(JSON.parse(backup.stdout)).toMatchObject({ type: 'full', cluster: 'main' });
      expect(archiver.hasExited()).toBe(false);
      expect(archiver.outputTail()).not.toContain('permission denied');
    } finally {
      await archiver.stop();
    }
  }, 240_000);
});
