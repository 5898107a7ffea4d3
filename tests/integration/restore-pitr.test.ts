// Point-in-time restore against a real PostgreSQL under pgbench load (track_commit_timestamp = on): restores to
// several times (an exact commit time among them) hold exactly the transactions committed at or before (or, with
// --exclusive, strictly before) the target, and pgbench's balance invariant; --dry-run changes nothing and plans
// what the restore then does; --to-name stops at a named point; --latest loses nothing that reached the
// repository (partial segment included); and, after the primary is deleted, the CLI restores from a fresh config
// holding only the repository and the key.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runIncrementalBackup } from '../../src/backup/incremental/run-incremental-backup.js';
import type { FullBackupManifest } from '../../src/repository/backup-manifest.js';
import { runRestorePoint } from '../../src/restore/run-restore-point.js';
import { freePort } from '../harness/free-port.js';
import { runCli } from '../harness/lifeboat-cli.js';
import { pgbench } from '../harness/lifeboat-fixture.js';
import { formatMicros, readSourceCommits, startRestoreSource, type RestoreSource, type SourceCommit } from '../harness/restore-source.js';
import { balancesSql, isPostmasterRunning, type RestoredCluster, type RestoreRunner } from '../harness/restore-runner.js';
import { queryPostgres } from '../harness/postgres-query.js';
import { waitFor } from '../harness/wait-for.js';
import { ensureCliBuilt } from '../harness/wal-archiver-runner.js';

let source: RestoreSource;
let runner: RestoreRunner;
let backup: FullBackupManifest;
/** Every pgbench_history row of the source with its exact commit time, oldest first. */
let commits: SourceCommit[];
/** Commit times of the two load phases, split by the increment sealed between them. */
let phaseA: SourceCommit[];
let phaseB: SourceCommit[];

/**
 * A commit well away from its neighbours. PostgreSQL stops at the first commit *record* (in WAL order) whose
 * time is after the target; commit times are taken just before the record is inserted, so two concurrent
 * commits a few microseconds apart can reach the WAL in the other order. Targets next to an isolated commit
 * make "commit time <= T" and "WAL before the stop point" the same set, which is what the test compares.
 */
function isolatedCommit(list: readonly SourceCommit[], minGapMicros = 3_000n): { commit: SourceCommit; next: SourceCommit } {
  const middle = list.slice(Math.floor(list.length / 4), Math.floor((list.length * 3) / 4));
  let best: { commit: SourceCommit; next: SourceCommit; gap: bigint } | undefined;
  for (const commit of middle) {
    const index = commits.indexOf(commit);
    const previous = commits[index - 1];
    const next = commits[index + 1];
    if (!previous || !next) continue;
    const gap = [commit.micros - previous.micros, next.micros - commit.micros].reduce((a, b) => (a < b ? a : b));
    if (!best || gap > best.gap) best = { commit, next, gap };
  }
  if (!best || best.gap < minGapMicros) throw new Error(`no commit isolated by ${minGapMicros} µs in ${list.length} commits`);
  return best;
}

function idsCommitted(predicate: (micros: bigint) => boolean): number[] {
  return commits
    .filter((commit) => predicate(commit.micros))
    .map((commit) => commit.id)
    .sort((a, b) => a - b);
}

async function expectConsistentBalances(restored: RestoredCluster): Promise<void> {
  const balances = await runner.balances(restored);
  expect(balances.branches).toBe(balances.accounts);
  expect(balances.tellers).toBe(balances.accounts);
  expect(balances.history).toBe(balances.accounts);
}

/** Segments PostgreSQL restored from the archive (restore_command), in the order it asked, from its log. */
function restoredFromArchive(restored: RestoredCluster): string[] {
  return [...readFileSync(restored.logFile, 'utf8').matchAll(/restored log file "([0-9A-F]{24})" from archive/g)].map((match) => match[1]!);
}

/** What the source held when the archiver stopped: the --latest restore must hold exactly this. */
let latestIds: number[];
let latestBalances: Record<string, string>;

beforeAll(async () => {
  ensureCliBuilt();
  source = await startRestoreSource({ scale: 2 });
  const { pg } = source;
  runner = source.restoreRunner();
  backup = await source.fullBackup();
  // Phase A, then an increment (so time targets are bounded by it), then phase B. Rate-limited, so commits
  // are spread out in time and some are isolated.
  await pgbench(pg, ['-c', '2', '-T', '4', '-R', '120', '-n']);
  await pg.query('select pg_switch_wal()');
  await source.waitArchived();
  await runIncrementalBackup({ cluster: source.cluster, storage: source.repository.storage, keys: source.repository.keys, log: source.log, signal: AbortSignal.timeout(60_000), lifeboatVersion: 'test' });
  const splitMicros = BigInt(Date.now()) * 1000n;
  await pgbench(pg, ['-c', '2', '-T', '4', '-R', '120', '-n']);
  commits = await readSourceCommits(pg);
  phaseA = commits.filter((commit) => commit.micros < splitMicros);
  phaseB = commits.filter((commit) => commit.micros >= splitMicros);

  // A named point between two marks.
  await pg.query('create table marks (label text)');
  await pg.query(`insert into marks values ('before')`);
  await runRestorePoint(source.cluster, source.repository.storage, 'before-cleanup', AbortSignal.timeout(30_000));
  await pg.query(`insert into marks values ('after')`);

  // The newest transactions, in the head segment: only a partial upload carries them to the repository.
  await pg.query('create table latest (n int)');
  await pg.query('insert into latest select generate_series(1, 100)');
  await pgbench(pg, ['-c', '2', '-t', '20', '-n']);
  latestIds = await source.archiveAllAndStop();
  latestBalances = (await pg.query<Record<string, string>>(balancesSql()))[0]!;
}, 240_000);

// source.stop() also stops every server the file restored.
afterAll(() => source?.stop());

describe('restore to a point in time under pgbench load', () => {
  it('--dry-run writes nothing, and its plan is the one the restore then carries out (inclusive, at an exact commit time)', async () => {
    const { commit } = isolatedCommit(phaseA);
    const dry = await runner.restore({ name: 'a-inclusive', toTime: commit.iso, dryRun: true });
    expect(dry.result.dryRun).toBe(true);
    expect(existsSync(dry.targetDir)).toBe(false);
    expect(existsSync(dry.result.workDir)).toBe(false);
    // A dry run with --force on a non-empty folder must not empty it either.
    const busy = join(source.fixture.dir, 'restores', 'busy');
    mkdirSync(busy, { recursive: true });
    writeFileSync(join(busy, 'keep.txt'), 'mine');
    await runner.restore({ name: 'busy', toTime: commit.iso, dryRun: true, force: true });
    expect(readdirSync(busy)).toEqual(['keep.txt']);

    const restored = await runner.restore({ name: 'a-inclusive', toTime: commit.iso, start: true });
    try {
      expect(restored.result.reached?.state).toBe('promoted');
      expect(restored.result.plan.backup.backupId).toBe(dry.result.plan.backup.backupId);
      expect(restored.result.plan.backup.backupId).toBe(backup.backupId);
      expect(restored.result.plan.wal.map((w) => w.segment)).toEqual(dry.result.plan.wal.map((w) => w.segment));
      // What PostgreSQL asked the archive for is the plan, in order, up to where it stopped.
      const planned = restored.result.plan.wal.map((w) => w.segment);
      const fetched = restoredFromArchive(restored);
      expect(fetched.length).toBeGreaterThan(0);
      expect(fetched).toEqual(planned.slice(0, fetched.length));
      // Each came out of the prefetch folder through restore-command.sh, which started no Node process for it.
      expect(restored.result.walServed?.plannedMisses).toEqual([]);
      expect(restored.result.walServed?.fromPrefetch).toBeGreaterThanOrEqual(fetched.length);

      // Recovery is over: the fetch config (credentials) and the key copy are gone, the server log stays.
      expect(readdirSync(restored.result.workDir).filter((name) => !name.startsWith('.s.PGSQL.'))).toEqual(['postgres.log']);

      const ids = await runner.historyIds(restored);
      expect(ids).toContain(commit.id);
      expect(ids).toEqual(idsCommitted((micros) => micros <= commit.micros));
      await expectConsistentBalances(restored);
    } finally {
      await runner.stop(restored);
    }
  });

  it('--exclusive at the same commit time leaves exactly that transaction out', async () => {
    const { commit } = isolatedCommit(phaseA);
    const restored = await runner.restore({ name: 'a-exclusive', toTime: commit.iso, exclusive: true, start: true });
    try {
      const ids = await runner.historyIds(restored);
      expect(ids).not.toContain(commit.id);
      expect(ids).toEqual(idsCommitted((micros) => micros < commit.micros));
      await expectConsistentBalances(restored);
    } finally {
      await runner.stop(restored);
    }
  });

  it('a time between two commits (inclusive) and another exact commit time (exclusive), after the increment', async () => {
    const { commit, next } = isolatedCommit(phaseB);
    const between = (commit.micros + next.micros) / 2n;
    const cases = [
      { name: 'b-between', toTime: formatMicros(between), flags: { inclusive: true }, expected: idsCommitted((micros) => micros <= between) },
      // The same instant written at +02:00: the zone is honoured to the microsecond.
      { name: 'b-exclusive', toTime: formatMicros(commit.micros, 120), flags: { exclusive: true }, expected: idsCommitted((micros) => micros < commit.micros) },
    ];
    for (const c of cases) {
      const restored = await runner.restore({ name: c.name, toTime: c.toTime, ...c.flags, start: true });
      try {
        expect(await runner.historyIds(restored)).toEqual(c.expected);
        await expectConsistentBalances(restored);
      } finally {
        await runner.stop(restored);
      }
    }
  });

  it('--to-name stops exactly at a restore point made with runRestorePoint', async () => {
    const restored = await runner.restore({ name: 'named', toName: 'before-cleanup', start: true });
    try {
      expect(restored.result.plan.namedLsn).toBeDefined();
      expect((await runner.query<{ label: string }>(restored, 'select label from marks order by label')).map((row) => row.label)).toEqual(['before']);
      await expectConsistentBalances(restored);
    } finally {
      await runner.stop(restored);
    }
  });

  it('--target-action pause and shutdown stop at the target without promoting; resuming then promotes there', async () => {
    const paused = await runner.restore({ name: 'named-pause', toName: 'before-cleanup', targetAction: 'pause', start: true });
    try {
      expect(paused.result.reached?.state).toBe('paused');
      expect((await runner.query<{ recovering: boolean }>(paused, 'select pg_is_in_recovery() as recovering'))[0]?.recovering).toBe(true);
      // Recovery is not over: the fetch config stays for it.
      expect(existsSync(join(paused.result.workDir, 'wal-fetch.json'))).toBe(true);
      await runner.query(paused, 'select pg_wal_replay_resume()');
      await waitFor('promotion after resume', async () => (await runner.query<{ recovering: boolean }>(paused, 'select pg_is_in_recovery() as recovering'))[0]?.recovering === false);
      expect((await runner.query<{ label: string }>(paused, 'select label from marks order by label')).map((row) => row.label)).toEqual(['before']);
    } finally {
      await runner.stop(paused);
    }

    const shut = await runner.restore({ name: 'named-shutdown', toName: 'before-cleanup', targetAction: 'shutdown', start: true });
    expect(shut.result.reached?.state).toBe('shut down');
    expect(isPostmasterRunning(shut.targetDir)).toBe(false);
    expect(existsSync(join(shut.targetDir, 'recovery.signal'))).toBe(true);
    expect(existsSync(join(shut.result.workDir, 'wal-fetch.json'))).toBe(true);
  });

  it('--latest loses no transaction whose WAL reached the repository, the partial segment included', async () => {
    const restored = await runner.restore({ name: 'latest', latest: true, start: true });
    try {
      expect(restored.result.reached?.state).toBe('promoted');
      expect(restored.result.plan.wal.at(-1)?.source).toBe('partial');
      expect((await runner.query<{ count: string }>(restored, 'select count(*)::text as count from latest'))[0]?.count).toBe('100');
      expect(await runner.historyIds(restored)).toEqual(latestIds);
      expect(await runner.balances(restored)).toEqual(latestBalances);
      await expectConsistentBalances(restored);
    } finally {
      await runner.stop(restored);
    }
  });

  it('after the primary is deleted, the CLI restores from a fresh config holding only the repository and the key', async () => {
    const { pg, fixture } = source;
    await pg.stop();
    expect(existsSync(pg.dataDir)).toBe(false);

    const fresh = join(fixture.dir, 'fresh');
    mkdirSync(fresh);
    const configPath = join(fresh, 'lifeboat.yaml');
    writeFileSync(
      configPath,
      [
        'clusters:',
        '  - name: main',
        '    postgres: { host: 192.0.2.1, port: 5432, user: nobody, dbname: postgres }',
        'repository:',
        `  driver: fs`,
        `  path: ${join(fixture.dir, 'repo')}`,
        'encryption:',
        '  provider: local',
        `  keyFile: ${join(fixture.dir, 'keys', 'lifeboat.key')}`,
        '',
      ].join('\n'),
    );
    const targetDir = join(fresh, 'data');
    const port = await freePort();
    runner.track(targetDir);
    // Only PATH from this environment: the fresh config must be enough.
    const { code, stdout, stderr } = await runCli(['restore', '--target-dir', targetDir, '--latest', '--start', '--port', String(port), '--json'], {
      configPath,
      cwd: fresh,
      env: { LIFEBOAT_LOG_LEVEL: 'warn' },
    });
    try {
      expect(code, stderr).toBe(0);
      const summary = JSON.parse(stdout) as { dryRun: boolean; backupId: string; reached: { state: string }; allObjectsPresent: boolean; wal: { lastIsPartial: boolean } };
      expect(summary.dryRun).toBe(false);
      expect(summary.backupId).toBe(backup.backupId);
      expect(summary.reached.state).toBe('promoted');
      expect(summary.allObjectsPresent).toBe(true);
      expect(isPostmasterRunning(targetDir)).toBe(true);
      const restored = (await queryPostgres<Record<string, string>>({ host: '127.0.0.1', port, database: 'postgres', ...pg.superuser }, balancesSql()))[0]!;
      expect(restored).toEqual(latestBalances);
    } finally {
      await runner.stop(targetDir);
    }
  });
});
