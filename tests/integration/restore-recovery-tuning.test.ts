// Replay tuned for the restore only: `restore --latest --start` recovers with the recovery-only settings of
// recovery-tuning.ts and resets them once promoted, so the new primary's postgresql.auto.conf no longer carries
// them and SHOW answers what the source answers; without --start the restore says what it set and how to reset
// it. Every tuned setting must be reloadable (pg_settings.context), or the reset would need a restart.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECOVERY_TUNING, RECOVERY_TUNING_MARKER } from '../../src/restore/recovery-tuning.js';
import { freePort } from '../harness/free-port.js';
import { runCli } from '../harness/lifeboat-cli.js';
import { pgbench } from '../harness/lifeboat-fixture.js';
import { startRestoreSource, type RestoreSource } from '../harness/restore-source.js';
import { queryPostgres } from '../harness/postgres-query.js';
import { ensureCliBuilt } from '../harness/wal-archiver-runner.js';

let source: RestoreSource;
const names = Object.keys(RECOVERY_TUNING);
/** The tuned settings, and max_wal_size (which a replay tuning would be expected to touch), as SHOW answers them. */
const shown = [...new Set([...names, 'max_wal_size'])];
/** SHOW of those on the source. */
let sourceValues: Record<string, string>;

async function show(port: number, name: string): Promise<string> {
  const [row] = await queryPostgres<Record<string, string>>({ host: '127.0.0.1', port, database: 'postgres', ...source.pg.superuser }, `SHOW ${name}`);
  return row![name]!;
}

function cli(args: string[]): ReturnType<typeof runCli> {
  return runCli(args, { configPath: source.fixture.configPath, cwd: source.fixture.dir, env: { ...source.fixture.env, LIFEBOAT_LOG_LEVEL: 'warn' } });
}

beforeAll(async () => {
  ensureCliBuilt();
  source = await startRestoreSource();
  await source.fullBackup();
  await pgbench(source.pg, ['-c', '2', '-t', '200', '-n']);
  await source.archiveAllAndStop();
  sourceValues = {};
  for (const name of shown) sourceValues[name] = await show(source.pg.port, name);
}, 240_000);

afterAll(() => source?.stop());

describe('replay tuning during recovery only', () => {
  it('tunes only reloadable settings', async () => {
    expect(names.length).toBeGreaterThan(0);
    const rows = await source.pg.query<{ name: string; context: string }>(`select name, context from pg_settings where name = any($1)`, [names]);
    expect(rows.map((row) => row.name).sort()).toEqual([...names].sort());
    for (const row of rows) expect(['sighup', 'superuser', 'user'], `${row.name} is ${row.context}`).toContain(row.context);
  });

  it('restore --latest --start resets the tuning once promoted: the server runs with the source\'s values', async () => {
    const targetDir = join(source.fixture.dir, 'restores', 'started');
    const port = await freePort();
    const runner = source.restoreRunner();
    runner.track(targetDir);
    const { code, stdout, stderr } = await cli(['restore', '--target-dir', targetDir, '--latest', '--start', '--port', String(port), '--json']);
    expect(code, stderr).toBe(0);
    const summary = JSON.parse(stdout) as { reached: { state: string }; recoveryTuning?: { settings: Record<string, string>; reset: boolean } };
    expect(summary.reached.state).toBe('promoted');
    expect(summary.recoveryTuning).toEqual({ settings: RECOVERY_TUNING, reset: true });
    const autoConf = readFileSync(join(targetDir, 'postgresql.auto.conf'), 'utf8');
    expect(autoConf).not.toContain(RECOVERY_TUNING_MARKER);
    // It was in force during the recovery: at the reload PostgreSQL logs each setting going back.
    const serverLog = readFileSync(join(`${targetDir}.lifeboat-restore`, 'postgres.log'), 'utf8');
    for (const name of names) {
      expect(serverLog).toMatch(new RegExp(`parameter "${name}" (removed from configuration file|changed to)`));
      expect(autoConf).not.toMatch(new RegExp(`^\\s*${name}\\s*=`, 'm'));
    }
    for (const name of shown) expect(await show(port, name), name).toBe(sourceValues[name]);
    await runner.stopAll();
  });

  it('restore without --start writes the tuning into postgresql.auto.conf and says how to reset it', async () => {
    const targetDir = join(source.fixture.dir, 'restores', 'not-started');
    const { code, stdout, stderr } = await cli(['restore', '--target-dir', targetDir, '--latest', '--port', String(await freePort())]);
    expect(code, stderr).toBe(0);
    const autoConf = readFileSync(join(targetDir, 'postgresql.auto.conf'), 'utf8');
    for (const [name, value] of Object.entries(RECOVERY_TUNING)) {
      expect(autoConf).toContain(`${name} = '${value}' ${RECOVERY_TUNING_MARKER}`);
      expect(stdout).toContain(`${name}=${value}`);
      expect(stdout).toContain(`ALTER SYSTEM RESET ${name};`);
    }
    expect(stdout).toContain('SELECT pg_reload_conf();');
  });
});
