// `check`'s slot retention warning and `lifeboat cluster drop-slots` against a real server: the warning names
// how much WAL the slots keep past a (tiny) threshold; drop-slots refuses without --yes off a terminal, refuses
// while a walsender streams from a slot (naming its pid), drops both slots with --yes, and is a no-op after.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { walArchiveLockName } from '../../src/state/lock-names.js';
import { acquireProcessLock } from '../../src/state/process-lock.js';
import { runLifeboatCli } from '../harness/lifeboat-cli.js';
import { createLifeboatFixture, type LifeboatFixture } from '../harness/lifeboat-fixture.js';
import { startPostgres, type PostgresServer } from '../harness/postgres.js';
import { startServiceProcess } from '../harness/service-process.js';
import { waitFor } from '../harness/wait-for.js';
import { ensureCliBuilt } from '../harness/wal-archiver-runner.js';

let pg: PostgresServer;
let fixture: LifeboatFixture;

async function slots(): Promise<{ slot_name: string; active: boolean; active_pid: number | null }[]> {
  return pg.query(`select slot_name, active, active_pid from pg_replication_slots where slot_name in ('lifeboat', 'lifeboat_guard') order by slot_name`);
}

beforeAll(async () => {
  ensureCliBuilt();
  pg = await startPostgres();
  fixture = createLifeboatFixture(pg, { cluster: { wal: { partialUploadIntervalSeconds: 5, archiveTimeoutSeconds: 60, slotRetentionWarnMiB: 1 } } });
  // Slots left behind by a stopped archiver, then WAL written past them.
  await pg.query(`select pg_create_physical_replication_slot('lifeboat', true), pg_create_physical_replication_slot('lifeboat_guard', true)`);
  await pg.query(`create table filler as select g, repeat('x', 200) as pad from generate_series(1, 20000) g`);
}, 120_000);

afterAll(async () => {
  fixture?.cleanup();
  await pg?.stop();
});

describe('slots of a cluster no longer archived', () => {
  it('check warns when a slot retains more WAL than wal.slotRetentionWarnMiB, and still passes', async () => {
    const result = await runLifeboatCli(fixture, ['check']);
    expect(result.stdout).toMatch(/WARN {2}slot retention: "lifeboat" retains [\d.]+ MiB, "lifeboat_guard" retains [\d.]+ MiB of WAL on the server, more than wal\.slotRetentionWarnMiB \(1 MiB\)/);
    expect(result.stdout).toContain('HINT: start the archiver (lifeboat wal archive --cluster main)');
    expect(result.stdout).toContain('lifeboat cluster drop-slots --cluster main');
    expect(result.stdout).toContain('all checks passed, with warnings');
    expect(result.code).toBe(0);
  });

  it('drop-slots refuses without --yes when stdin is not a terminal, explaining what it gives up', async () => {
    const result = await runLifeboatCli(fixture, ['cluster', 'drop-slots']);
    expect(result.code).toBe(64);
    expect(result.stderr).toContain('error[usage]: cluster drop-slots asks for confirmation, and stdin is not a terminal');
    expect(result.stderr).toContain('re-run with --yes');
    expect(result.stderr).toContain('point-in-time recovery past the last archived WAL is lost');
    expect((await slots()).map((slot) => slot.slot_name)).toEqual(['lifeboat', 'lifeboat_guard']);
  });

  it('drop-slots refuses while a walsender streams from a slot, naming its pid', async () => {
    const spool = mkdtempSync(join(tmpdir(), 'lifeboat-receivewal-'));
    const receiver = startServiceProcess({
      command: join(pg.bindir, 'pg_receivewal'),
      args: ['-h', pg.host, '-p', String(pg.port), '-U', pg.superuser.user, '-S', 'lifeboat', '-D', spool, '--no-password'],
      env: { ...process.env, PGPASSWORD: pg.superuser.password },
    });
    try {
      const pid = await waitFor('pg_receivewal streaming on slot "lifeboat"', async () => (await slots()).find((slot) => slot.slot_name === 'lifeboat' && slot.active)?.active_pid ?? undefined, {
        timeoutMs: 60_000,
      });
      const result = await runLifeboatCli(fixture, ['cluster', 'drop-slots', '--yes']);
      expect(result.code).toBe(91);
      expect(result.stderr).toContain(`error[locked]: replication slot "lifeboat" is in use by walsender pid ${pid}`);
      expect((await slots()).map((slot) => slot.slot_name)).toEqual(['lifeboat', 'lifeboat_guard']);
    } finally {
      await receiver.stop();
      rmSync(spool, { recursive: true, force: true });
    }
  });

  it('drop-slots refuses while an archiver on this host holds its lock (it would create the slots again)', async () => {
    mkdirSync(fixture.config.stateDir, { recursive: true });
    const lock = await acquireProcessLock(fixture.config.stateDir, walArchiveLockName('main'), 'wal archive (cluster main)');
    try {
      const result = await runLifeboatCli(fixture, ['cluster', 'drop-slots', '--yes']);
      expect(result.code).toBe(91);
      expect(result.stderr).toContain(`error[locked]: the WAL archiver of cluster "main" is running (pid ${process.pid}`);
    } finally {
      await lock.release();
    }
    expect((await slots()).map((slot) => slot.slot_name)).toEqual(['lifeboat', 'lifeboat_guard']);
  });

  it('on a terminal, drop-slots asks y/N, and anything but "y" drops nothing (exit 90)', async (context) => {
    // util-linux `script` gives the CLI a pseudo-terminal as stdin, as an operator's shell would.
    if (!existsSync('/usr/bin/script')) context.skip();
    const cli = [process.execPath, join(import.meta.dirname, '..', '..', 'bin', 'lifeboat.js'), '--config', fixture.configPath, 'cluster', 'drop-slots'].join(' ');
    const output = await new Promise<string>((resolve) => {
      const child = execFile('/usr/bin/script', ['-qec', `${cli}; echo "exit=$?"`, '/dev/null'], { env: fixture.env, timeout: 60_000 }, (_error, stdout) => resolve(stdout));
      child.stdin?.end('n\n');
    });
    expect(output).toContain('drop these slots? [y/N]');
    expect(output).toContain('point-in-time recovery past the last archived WAL is lost');
    expect(output).toContain('error[aborted]: not confirmed; no slot was dropped');
    expect(output).toContain('exit=90');
    expect((await slots()).map((slot) => slot.slot_name)).toEqual(['lifeboat', 'lifeboat_guard']);
  });

  it('drop-slots --yes drops both slots, saying what that gives up; again, there is nothing to drop', async () => {
    await waitFor('the slot released', async () => (await slots()).every((slot) => !slot.active), { timeoutMs: 30_000 });
    const result = await runLifeboatCli(fixture, ['cluster', 'drop-slots', '--yes']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/slot "lifeboat" keeps [\d.]+ MiB of WAL/);
    expect(result.stdout).toContain('archiving resumes only after a new full backup');
    expect(result.stdout).toContain('dropped "lifeboat" and "lifeboat_guard"');
    expect(await slots()).toEqual([]);

    const again = await runLifeboatCli(fixture, ['cluster', 'drop-slots', '--yes']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('no lifeboat slots to drop');
    const check = await runLifeboatCli(fixture, ['check']);
    expect(check.stdout).toContain('slot retention: no lifeboat slots yet');
  });
});
