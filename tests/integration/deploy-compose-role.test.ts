// deploy/compose/init-lifeboat-role.sh, the compose PostgreSQL's first-start script, run for real against a
// PostgreSQL as the postgres image's entrypoint runs it (POSTGRES_USER, PGDATA, psql on PATH): the role it creates
// passes `lifeboat check`, its password comes from the environment, and the pg_hba line is appended. The harness
// already has a `lifeboat` role, so the script runs with the role renamed (every lowercase "lifeboat" but the
// heartbeat's schema, which the harness's schema gives way to).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLifeboatCli } from '../harness/lifeboat-cli.js';
import { createLifeboatFixture, type LifeboatFixture } from '../harness/lifeboat-fixture.js';
import { startPostgres, type PostgresServer } from '../harness/postgres.js';
import { ensureCliBuilt } from '../harness/wal-archiver-runner.js';

const ROLE = 'lb_compose';
let pg: PostgresServer;
let fixture: LifeboatFixture;

beforeAll(async () => {
  ensureCliBuilt();
  pg = await startPostgres();
  // The harness made the schema for its own role; the script must make it for the compose role.
  await pg.query('drop schema lifeboat');
}, 120_000);

afterAll(async () => {
  fixture?.cleanup();
  await pg?.stop();
});

describe('compose init script', () => {
  it('creates a role that passes lifeboat check, its password from the environment', async () => {
    const script = readFileSync(join(import.meta.dirname, '..', '..', 'deploy', 'compose', 'init-lifeboat-role.sh'), 'utf8');
    const dir = mkdtempSync(join(tmpdir(), 'lifeboat-initdb-'));
    const scriptPath = join(dir, '10-lifeboat-role.sh');
    writeFileSync(scriptPath, script.replaceAll('lifeboat', ROLE).replaceAll(`SCHEMA IF NOT EXISTS ${ROLE} `, 'SCHEMA IF NOT EXISTS lifeboat '));
    writeFileSync(join(dir, 'pg_hba.conf'), '');
    const env = {
      PATH: `${pg.bindir}:${process.env.PATH ?? ''}`,
      PGHOST: pg.host,
      PGPORT: String(pg.port),
      PGPASSWORD: pg.superuser.password,
      POSTGRES_USER: pg.superuser.user,
      PGDATA: dir,
      // The harness lifeboat role's password, so the fixture's password reference works for the new role too.
      LIFEBOAT_PGPASSWORD: pg.lifeboat.password,
    };
    const run = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile('sh', [scriptPath], { env, timeout: 60_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, output: `${stdout}${stderr}` }),
      );
    });
    expect(run.code, run.output).toBe(0);
    expect(run.output).not.toContain(pg.lifeboat.password);
    expect(readFileSync(join(dir, 'pg_hba.conf'), 'utf8')).toBe(`host replication ${ROLE} all scram-sha-256\n`);
    const [privileges] = await pg.query<{ rolreplication: boolean; rolsuper: boolean; switch_wal: boolean }>(
      `select rolreplication, rolsuper, has_function_privilege('${ROLE}', 'pg_catalog.pg_switch_wal()', 'execute') as switch_wal from pg_roles where rolname = '${ROLE}'`,
    );
    expect(privileges).toEqual({ rolreplication: true, rolsuper: false, switch_wal: true });
    const [schema] = await pg.query<{ owner: string }>("select nspowner::regrole::text as owner from pg_namespace where nspname = 'lifeboat'");
    expect(schema).toEqual({ owner: ROLE });

    fixture = createLifeboatFixture(pg, {
      cluster: {
        postgres: { host: pg.host, port: pg.port, user: ROLE, dbname: 'postgres', password: { env: 'FIXTURE_PGPASSWORD' }, sslmode: 'disable', bindir: pg.bindir },
      },
    });
    const check = await runLifeboatCli(fixture, ['check']);
    expect(check.stdout).toContain('all checks passed');
    expect(check.code).toBe(0);
  }, 120_000);
});
