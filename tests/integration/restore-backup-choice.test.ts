// Restores from a repository holding two full backups with increments after each, and a timeline switch at the
// end: a target before the first full is refused; targets between the fulls and after the second pick the right
// full backup and hold exactly the rows committed by then (--to-time, --to-lsn); --immediate stops at the newest
// full's consistent point; --timeline 1 stays on the first timeline. And a restored server is a server: restored
// by the CLI without --start (its default), it starts with a plain `pg_ctl start` on the port the restore was
// given, and comes back after `pg_ctl stop` + `pg_ctl start`, also when the restore started it (--start).
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runIncrementalBackup } from '../../src/backup/incremental/run-incremental-backup.js';
import { isLifeboatError } from '../../src/errors/index.js';
import type { FullBackupManifest } from '../../src/repository/backup-manifest.js';
import { freePort } from '../harness/free-port.js';
import { runCli } from '../harness/lifeboat-cli.js';
import { promoteToNextTimeline } from '../harness/promote-timeline.js';
import { isPostmasterRunning, readRestoredPort, type RestoreRequest, type RestoreRunner } from '../harness/restore-runner.js';
import { startRestoreSource, type RestoreSource } from '../harness/restore-source.js';
import { runAsPostgres } from '../harness/run-as-postgres.js';
import { waitFor } from '../harness/wait-for.js';
import { ensureCliBuilt } from '../harness/wal-archiver-runner.js';

let source: RestoreSource;
let runner: RestoreRunner;
let restoresDir: string;
let full1: FullBackupManifest;
let full2: FullBackupManifest;
/** Instants and positions between the marks (a1 | a2 | full2 | b1 | b2 | switch | c1). */
const at: { beforeFull1: string; afterA1: string; afterB1: string; lsnAfterA1: string; lsnAfterB1: string } = { beforeFull1: '', afterA1: '', afterB1: '', lsnAfterA1: '', lsnAfterB1: '' };
let switched = false;

async function mark(label: string): Promise<void> {
  await source.pg.query(`insert into marks (label) values ('${label}')`);
}

/** A clock reading on the source 20 ms after the last commit and 20 ms before the next. */
async function pause(): Promise<string> {
  await new Promise((done) => setTimeout(done, 20));
  const now = (await source.pg.query<{ now: string }>(`select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as now`))[0]!.now;
  await new Promise((done) => setTimeout(done, 20));
  return now;
}

async function increment(): Promise<void> {
  await source.pg.query('select pg_switch_wal()');
  await source.waitArchived();
  await runIncrementalBackup({ cluster: source.cluster, storage: source.repository.storage, keys: source.repository.keys, log: source.log, signal: AbortSignal.timeout(60_000), lifeboatVersion: 'test' });
}

/** A full backup, a commit `first` (with the position and a clock reading after it), an increment, a commit `second`. */
async function fullWithIncrement(first: string, second: string): Promise<{ full: FullBackupManifest; lsnAfterFirst: string; afterFirst: string }> {
  const full = await source.fullBackup();
  await mark(first);
  const lsnAfterFirst = await source.currentLsn();
  const afterFirst = await pause();
  await increment();
  await mark(second);
  return { full, lsnAfterFirst, afterFirst };
}

async function labels(restored: { port: number }): Promise<string[]> {
  return (await runner.query<{ label: string }>(restored, 'select label from marks order by id')).map((row) => row.label);
}

async function pgCtl(targetDir: string, ...args: string[]): Promise<void> {
  await runAsPostgres(join(source.pg.bindir, 'pg_ctl'), ['-D', targetDir, ...args]);
}

/** One restore (started) that must pick `backup`, be promoted (for `endReason`, if given) and hold exactly `rows`. */
interface PickCase {
  request: RestoreRequest;
  backup: FullBackupManifest;
  rows: string[];
  endReason?: RegExp;
}

async function expectPicks(cases: readonly PickCase[]): Promise<void> {
  for (const c of cases) {
    await runner.withRestored({ ...c.request, start: true }, async (restored) => {
      expect(restored.result.plan.backup.backupId, c.request.name).toBe(c.backup.backupId);
      expect(restored.result.reached?.state).toBe('promoted');
      if (c.endReason) expect(restored.result.reached?.endReason).toMatch(c.endReason);
      expect(await labels(restored), c.request.name).toEqual(c.rows);
    });
  }
}

async function waitPromoted(port: number): Promise<void> {
  await waitFor(`the restored server on port ${port} to be promoted`, async () => (await runner.query<{ recovering: boolean }>({ port }, 'select pg_is_in_recovery() as recovering'))[0]?.recovering === false, {
    timeoutMs: 120_000,
  });
}

beforeAll(async () => {
  ensureCliBuilt();
  source = await startRestoreSource();
  const { pg } = source;
  restoresDir = join(source.fixture.dir, 'restores');
  mkdirSync(restoresDir, { recursive: true });
  runner = source.restoreRunner(restoresDir);
  await pg.query('create table marks (id serial primary key, label text not null)');
  at.beforeFull1 = await pause();
  ({ full: full1, lsnAfterFirst: at.lsnAfterA1, afterFirst: at.afterA1 } = await fullWithIncrement('a1', 'a2'));
  ({ full: full2, lsnAfterFirst: at.lsnAfterB1, afterFirst: at.afterB1 } = await fullWithIncrement('b1', 'b2'));
  await source.waitArchived();
  if (pg.runtime === 'local') {
    // The source, its slot and the archiver carry on across the switch (as in restore-timeline.test.ts).
    await promoteToNextTimeline(pg, 2);
    await mark('c1');
    switched = true;
  }
  // The source keeps running (and keeps its port): a restored server must not need it.
  await source.archiveAllAndStop();
}, 300_000);

// source.stop() also stops every server the file restored.
afterAll(() => source?.stop());

describe('two full backups with increments: each target picks the right backup', () => {
  it('a time before the first full is refused, naming the window', async () => {
    const error = await runner.restore({ name: 'too-early', toTime: at.beforeFull1 }).catch((caught: unknown) => caught);
    expect(isLifeboatError(error, 'usage')).toBe(true);
    expect((error as Error).message).toMatch(/is before the earliest recoverable point; the window is/);
  });

  it('--to-time between the fulls restores the first full, after the second the second, each with exactly its rows', async () => {
    await expectPicks([
      { request: { name: 'time-between', toTime: at.afterA1 }, backup: full1, rows: ['a1'] },
      { request: { name: 'time-after', toTime: at.afterB1 }, backup: full2, rows: ['a1', 'a2', 'b1'] },
    ]);
  });

  it('--to-lsn between the fulls and after the second', async () => {
    await expectPicks([
      { request: { name: 'lsn-between', toLsn: at.lsnAfterA1 }, backup: full1, rows: ['a1'], endReason: /LSN/ },
      { request: { name: 'lsn-after', toLsn: at.lsnAfterB1 }, backup: full2, rows: ['a1', 'a2', 'b1'], endReason: /LSN/ },
    ]);
  });

  it('--immediate stops at the newest full backup\'s consistent point', async () => {
    const restored = await runner.restore({ name: 'immediate', immediate: true, start: true });
    try {
      expect(restored.result.plan.backup.backupId).toBe(full2.backupId);
      expect(restored.result.reached?.state).toBe('promoted');
      expect(restored.result.reached?.endReason).toBe('reached consistency');
      expect(await labels(restored)).toEqual(['a1', 'a2']);
    } finally {
      await runner.stop(restored);
    }
  });

  it('--timeline 1 --latest replays the first timeline to its end, without the commits of timeline 2', async (context) => {
    if (!switched) context.skip();
    const restored = await runner.restore({ name: 'timeline-1', latest: true, timeline: 1, start: true });
    try {
      expect(restored.result.plan.timeline).toBe(1);
      expect(new Set(restored.result.plan.wal.map((w) => w.segment.slice(0, 8)))).toEqual(new Set(['00000001']));
      expect(restored.result.reached?.state).toBe('promoted');
      expect(await labels(restored)).toEqual(['a1', 'a2', 'b1', 'b2']);
    } finally {
      await runner.stop(restored);
    }
  });
});

describe('a restored server starts, stops and starts again with plain pg_ctl', () => {
  it('restored by the CLI without --start, it comes up on the --port given, and again after a stop', async () => {
    const targetDir = join(restoresDir, 'by-hand');
    const port = await freePort();
    runner.track(targetDir);
    const { code, stdout, stderr } = await runCli(['restore', '--target-dir', targetDir, '--latest', '--port', String(port)], {
      configPath: source.fixture.configPath,
      env: { ...source.fixture.env, LIFEBOAT_LOG_LEVEL: 'warn' },
    });
    expect(code, stderr).toBe(0);
    expect(isPostmasterRunning(targetDir)).toBe(false);
    const logFile = `${targetDir}.lifeboat-restore/postgres.log`;
    // The output says it in words: the target, the estimate as a range, where the server listens and logs.
    expect(stdout).toMatch(/^ {2}target: {5}latest .*on timeline \d+$/m);
    expect(stdout).not.toMatch(/\{"kind"/);
    expect(stdout).toMatch(/^ {2}estimate: {3}\d+-\d+ s until promoted/m);
    expect(stdout).toContain(`port ${port}, socket in ${targetDir}.lifeboat-restore, log ${logFile}`);
    expect(stdout).toContain(`pg_ctl -D ${targetDir} -l ${logFile} start`);
    expect(readRestoredPort(targetDir)).toBe(port);
    try {
      await pgCtl(targetDir, '-l', logFile, 'start');
      await waitPromoted(port);
      expect(await labels({ port })).toEqual(switched ? ['a1', 'a2', 'b1', 'b2', 'c1'] : ['a1', 'a2', 'b1', 'b2']);
      await pgCtl(targetDir, '-m', 'fast', '-w', 'stop');
      expect(isPostmasterRunning(targetDir)).toBe(false);
      await pgCtl(targetDir, '-l', logFile, '-w', 'start');
      expect(await labels({ port })).toContain('b2');
      expect(readFileSync(logFile, 'utf8')).not.toContain('could not bind');
    } finally {
      await runner.stop(targetDir);
    }
  });

  it('started by restore --start --port N, it comes back on N after pg_ctl stop and start', async () => {
    const restored = await runner.restore({ name: 'started', latest: true, start: true });
    try {
      expect(restored.result.reached?.state).toBe('promoted');
      expect(restored.result.server.port).toBe(restored.port);
      await pgCtl(restored.targetDir, '-m', 'fast', '-w', 'stop');
      await pgCtl(restored.targetDir, '-l', restored.logFile, '-w', 'start');
      expect(await labels(restored)).toContain('b2');
    } finally {
      await runner.stop(restored);
    }
  });
});
