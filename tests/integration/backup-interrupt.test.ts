// Interrupted and unattended full backups through the CLI, as an operator meets them: SIGINT while streaming (to
// lifeboat alone) and while waiting for WAL (Ctrl-C: the whole process group) exits 90 with one line saying what
// was removed; a second backup of the cluster from the same state folder is refused with `locked`; a killed
// backup's leftovers are removed at once by the next backup from the same state folder; with no archiver running,
// `backup full` and `check --archive` fail within seconds naming the command to start one.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFixtureCli, type CliProcess } from '../harness/lifeboat-cli.js';
import { createLifeboatFixture, pgbench, type LifeboatFixture } from '../harness/lifeboat-fixture.js';
import { startPostgres, type PostgresServer } from '../harness/postgres.js';
import { ensureCliBuilt, startArchiverProcess } from '../harness/wal-archiver-runner.js';
import { waitFor } from '../harness/wait-for.js';
import type { ServiceProcess } from '../harness/service-process.js';

let pg: PostgresServer;
let fixture: LifeboatFixture;

/** `lifeboat --config <fixture> ...args` in its own process group, logging at info level, bounded by the test timeout. */
function startCli(args: string[]): CliProcess {
  return startFixtureCli(fixture, args, { env: { LIFEBOAT_LOG_LEVEL: 'info' }, detached: true, timeoutMs: 300_000 });
}

/** What the fs repository holds under the cluster's backups/ folder: backup id -> relative paths. */
function storedBackupFolders(): Map<string, string[]> {
  const root = join(fixture.dir, 'repo', 'clusters', 'main', 'backups');
  const folders = new Map<string, string[]>();
  if (!existsSync(root)) return folders;
  for (const id of readdirSync(root)) {
    const files = readdirSync(join(root, id), { recursive: true, encoding: 'utf8' }).filter((path) => /\.(enc|json)$/.test(path)).sort();
    if (files.length > 0) folders.set(id, files);
  }
  return folders;
}

async function listedBackups(): Promise<string[]> {
  const list = await startCli(['backups', 'list', '--json']).done;
  expect(list.code, list.stderr).toBe(0);
  const parsed = JSON.parse(list.stdout) as { clusters: { backups: { backupId: string }[] }[] };
  return parsed.clusters.flatMap((cluster) => cluster.backups.map((backup) => backup.backupId));
}

async function slotActive(): Promise<boolean> {
  const rows = await pg.query<{ active: boolean }>("select active from pg_replication_slots where slot_name = 'lifeboat'");
  return rows[0]?.active === true;
}

/** A `wal archive` child, ready once its slot is in use. */
async function startArchiver(): Promise<ServiceProcess> {
  const archiver = startArchiverProcess(fixture);
  await waitFor('the archiver to use its slot', async () => {
    if (archiver.hasExited()) throw new Error(`archiver ${await archiver.exited}:\n${archiver.outputTail()}`);
    return slotActive();
  }, { timeoutMs: 60_000 });
  return archiver;
}

beforeAll(async () => {
  ensureCliBuilt();
  pg = await startPostgres();
  fixture = createLifeboatFixture(pg);
  // ~160 MB of tables: 20 or more 8 MiB parts, so the stream is still running when the first part is stored.
  await pgbench(pg, ['-i', '-s', '10', '-q']);
}, 300_000);

afterAll(async () => {
  await pg?.stop();
  fixture?.cleanup();
});

describe('an interrupted full backup', () => {
  it('SIGINT while streaming exits 90 with one line naming what it removed; nothing is listed or left', async () => {
    const backup = startCli(['backup', 'full']);
    await backup.waitForLine(/base backup part stored/);
    // To lifeboat alone (`kill -INT <pid>`, a supervisor): it must stop pg_basebackup itself.
    backup.child.kill('SIGINT');
    const result = await backup.done;
    expect(result.code, result.stderr.slice(-3000)).toBe(90);
    expect(result.stderr).not.toContain('waiting for WAL to reach the repository');
    expect(result.reportLines).toHaveLength(1);
    expect(result.reportLines[0]).toMatch(/^error\[aborted\]: backup full interrupted by SIGINT; removed \d+ stored parts? of backup \S+$/);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(await listedBackups()).toEqual([]);
    expect([...storedBackupFolders().values()].flat()).toEqual([]);
  }, 300_000);

  it('SIGINT while waiting for WAL exits 90 the same way, and a second backup meanwhile is refused with `locked`', async () => {
    // An archiver that holds its slot but delivers nothing (stopped): the backup waits for WAL until interrupted.
    const archiver = await startArchiver();
    process.kill(archiver.child.pid!, 'SIGSTOP');
    try {
      const backup = startCli(['backup', 'full']);
      await backup.waitForLine(/waiting for WAL to reach the repository/);

      const second = await startCli(['backup', 'full']).done;
      expect(second.code, second.stderr.slice(-3000)).toBe(91);
      expect(second.reportLines[0]).toMatch(new RegExp(`^error\\[locked\\]: another process holds the backup:main lock on .*: pid ${backup.child.pid}, backup full`));

      // Ctrl-C in a terminal: the whole process group.
      backup.signalGroup('SIGINT');
      const result = await backup.done;
      expect(result.code, result.stderr.slice(-3000)).toBe(90);
      expect(result.reportLines).toHaveLength(1);
      expect(result.reportLines[0]).toMatch(/^error\[aborted\]: backup full interrupted by SIGINT; removed \d+ stored parts? of backup /);
      expect(result.stderr).not.toMatch(/AbortError|^\s+at /m);
      expect(await listedBackups()).toEqual([]);
      expect([...storedBackupFolders().values()].flat()).toEqual([]);
    } finally {
      process.kill(archiver.child.pid!, 'SIGCONT');
      await archiver.stop(20_000);
    }
    // The archiver's graceful stop on SIGTERM is still a success.
    expect(await archiver.exited, archiver.outputTail()).toBe('exited with status 0');
  }, 300_000);

  it('leftovers of a killed backup are removed at once by the next full backup from the same state folder', async () => {
    const killed = startCli(['backup', 'full']);
    await killed.waitForLine(/base backup part stored/);
    killed.signalGroup('SIGKILL');
    await killed.done;
    const leftovers = storedBackupFolders();
    expect(leftovers.size).toBe(1);
    const [leftoverId, leftoverFiles] = [...leftovers][0]!;
    expect(leftoverFiles).toContain('in-progress.json');
    expect(leftoverFiles.filter((path) => path.startsWith('base/')).length).toBeGreaterThan(0);

    const archiver = await startArchiver();
    try {
      const next = await startCli(['backup', 'full']).done;
      expect(next.code, next.stderr.slice(-3000)).toBe(0);
      expect(next.stderr).toMatch(new RegExp(`"backupId":"${leftoverId}".*removed the leftovers of an interrupted backup`));
      const folders = storedBackupFolders();
      expect(folders.has(leftoverId)).toBe(false);
      const listed = await listedBackups();
      expect(listed).toHaveLength(1);
      // The complete backup keeps its manifest and parts; its in-progress marker is gone.
      expect(folders.get(listed[0]!)).toContain('manifest.json');
      expect(folders.get(listed[0]!)).not.toContain('in-progress.json');
    } finally {
      await archiver.stop(20_000);
    }
  }, 300_000);
});

describe('waiting for WAL without an archiver', () => {
  it('backup full fails within 30 s naming the command to start one, and removes what it stored', async () => {
    expect(await slotActive()).toBe(false);
    const before = new Set(storedBackupFolders().keys());
    const result = await startCli(['backup', 'full']).done;
    expect(result.code, result.stderr.slice(-3000)).toBe(81);
    expect(result.elapsedMs).toBeLessThan(30_000);
    expect(result.reportLines[0]).toMatch(/^error\[postgresConfig\]: the WAL this backup needs .* is not reaching the repository: no WAL archiver is running for cluster "main"/);
    expect(result.stderr).toContain('lifeboat wal archive --cluster main');
    // It said what it was waiting for while it waited.
    expect(result.stderr).toMatch(/"awaitedSegment":"[0-9A-F]{24}".*waiting for WAL to reach the repository/);
    expect([...storedBackupFolders().keys()].filter((id) => !before.has(id))).toEqual([]);
  }, 120_000);

  it('check --archive fails within its timeout naming the command to start one', async () => {
    const result = await startCli(['check', '--archive']).done;
    expect(result.code, result.stdout + result.stderr.slice(-3000)).toBe(81);
    expect(result.elapsedMs).toBeLessThan(30_000);
    expect(result.stdout).toMatch(/FAIL {2}archive: WAL segment [0-9A-F]{24} \(completed by pg_switch_wal\(\)\) is not reaching the repository: no WAL archiver is running/);
    expect(result.stdout).toContain('lifeboat wal archive --cluster main');
    expect(result.reportLines[0]).toBe('error[postgresConfig]: check failed: archive');
  }, 120_000);

  it('check --archive passes with an archiver running, reporting how long the segment took', async () => {
    const archiver = await startArchiver();
    try {
      const result = await startCli(['check', '--archive']).done;
      expect(result.code, result.stdout + result.stderr.slice(-3000)).toBe(0);
      expect(result.stdout).toMatch(/ok {4}archive: WAL segment [0-9A-F]{24} reached the repository \d+\.\d s after pg_switch_wal\(\)/);
      expect(result.stdout).toContain('all checks passed');
    } finally {
      await archiver.stop(20_000);
    }
  }, 120_000);
});
