// Restore refusals and failures against a real repository and PostgreSQL: every refusal gives its reason and fix
// and writes nothing (no target folder, no work folder); a restore_command that fails mid-recovery stops the
// server without promoting it, the restore reports the failure from the server log, and starting the server
// again (plain pg_ctl) once the repository is back resumes recovery to the end with nothing lost; a planned WAL
// segment that leaves the (reachable) repository after the plan fails the restore, named, never a success.
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDecryptionSession } from '../../src/crypto/index.js';
import { isLifeboatError, LifeboatError } from '../../src/errors/index.js';
import type { FullBackupManifest } from '../../src/repository/backup-manifest.js';
import { loadRestoreInputs } from '../../src/restore/load-restore-inputs.js';
import { planRestore, type PlannedWal } from '../../src/restore/plan-restore.js';
import { parseRestoreTarget } from '../../src/restore/restore-target.js';
import { runRestorePoint } from '../../src/restore/run-restore-point.js';
import { checkTargetDir, type TargetDirState } from '../../src/restore/target-dir.js';
import type { GetOptions, Storage } from '../../src/storage/index.js';
import { runCli } from '../harness/lifeboat-cli.js';
import { pgbench } from '../harness/lifeboat-fixture.js';
import { createRestoreRunner, HISTORY_IDS_SQL, isPostmasterRunning, readRestoredPort, type RestoreRequest, type RestoreRunner } from '../harness/restore-runner.js';
import { repositoryPath, startRestoreSource, type RestoreSource } from '../harness/restore-source.js';
import { runAsPostgres } from '../harness/run-as-postgres.js';
import { runProcess } from '../harness/run-process.js';
import { waitFor } from '../harness/wait-for.js';
import { ensureCliBuilt } from '../harness/wal-archiver-runner.js';

let source: RestoreSource;
let runner: RestoreRunner;
let backup: FullBackupManifest;
let restoresDir: string;
/** pgbench_history ids on the source when the archiver stopped. */
let sourceIds: number[];

/** Runs the restore, expects a refusal with `message`, and proves nothing was written. */
async function expectRefused(request: RestoreRequest, message: RegExp): Promise<LifeboatError> {
  const targetDir = request.targetDir ?? join(restoresDir, request.name);
  const before = existsSync(targetDir) ? readdirSync(targetDir).sort() : undefined;
  const error = await runner.restore(request).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isLifeboatError(error)) throw new Error(`expected a refusal, got ${String(error)}`);
  expect(error.message).toMatch(message);
  expect(error.hint).toBeTruthy();
  expect(existsSync(targetDir) ? readdirSync(targetDir).sort() : undefined).toEqual(before);
  expect(existsSync(`${targetDir}.lifeboat-restore`)).toBe(false);
  return error;
}

function refusalOf(run: () => unknown): LifeboatError {
  try {
    run();
  } catch (error) {
    if (isLifeboatError(error)) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

beforeAll(async () => {
  ensureCliBuilt();
  source = await startRestoreSource({ scale: 1 });
  const { pg } = source;
  restoresDir = join(source.fixture.dir, 'restores');
  mkdirSync(restoresDir);
  runner = source.restoreRunner(restoresDir);
  backup = await source.fullBackup();
  await runRestorePoint(source.cluster, source.repository.storage, 'known-point', AbortSignal.timeout(30_000));
  // Several segments after the backup, each with commits: a recovery that fails midway has work left to do.
  for (let segment = 0; segment < 8; segment++) {
    await pgbench(pg, ['-c', '1', '-t', '25', '-n']);
    await pg.query('select pg_switch_wal()');
  }
  await pgbench(pg, ['-c', '1', '-t', '25', '-n']);
  sourceIds = await source.archiveAllAndStop();
}, 180_000);

// source.stop() also stops every server the file restored.
afterAll(() => source?.stop());

describe('restore refuses, with the reason and the fix, and writes nothing', () => {
  it('a time before the earliest or after the latest recoverable point, printing the window', async () => {
    const before = new Date(Date.parse(backup.startTime) - 3_600_000).toISOString();
    const early = await expectRefused({ name: 'early', toTime: before }, /is before the earliest recoverable point; the window is .+ to .+/);
    expect(early.message).toContain(backup.stopLsn);
    const after = new Date(Date.now() + 3_600_000).toISOString();
    await expectRefused({ name: 'late', toTime: after }, /is not before the last archived commit; the window is .+ to .+/);
    await expectRefused({ name: 'late-lsn', toLsn: 'FF/0' }, /LSN FF\/0 is after the latest archived WAL; the window is/);
  });

  it('a non-empty target folder without --force', async () => {
    const targetDir = join(restoresDir, 'occupied');
    mkdirSync(targetDir);
    writeFileSync(join(targetDir, 'precious.txt'), 'do not delete');
    const error = await expectRefused({ name: 'occupied', latest: true }, /is not empty \(1 entries\)/);
    expect(error.hint).toContain('--force');
    expect(readFileSync(join(targetDir, 'precious.txt'), 'utf8')).toBe('do not delete');
  });

  it('a target folder where a postmaster is running', async () => {
    const { pg } = source;
    expect(isPostmasterRunning(pg.dataDir)).toBe(true);
    const error = await expectRefused({ name: 'live', targetDir: pg.dataDir, latest: true, force: true }, /a postmaster \(pid \d+\) is running in/);
    expect(error.hint).toContain('pg_ctl');
    expect(isPostmasterRunning(pg.dataDir)).toBe(true);
  });

  it('--start on a port already in use', async () => {
    const error = await expectRefused({ name: 'port-taken', latest: true, start: true, port: source.pg.port }, new RegExp(`port ${source.pg.port} on 127.0.0.1 is in use`));
    expect(error.hint).toContain('--port');
  });

  it('a timestamp without a time zone, saying which zone to add (also through the CLI)', async () => {
    const error = refusalOf(() => parseRestoreTarget({ toTime: '2026-11-29 14:02:59.123456' }));
    expect(error.message).toMatch(/has no time zone/);
    expect(error.hint).toContain('"2026-11-29 14:02:59.123456Z" for UTC');

    const { code, stderr } = await runCli(['restore', '--target-dir', join(restoresDir, 'cli-no-zone'), '--to-time', '2026-11-29 14:02:59'], {
      configPath: source.fixture.configPath,
      env: { ...source.fixture.env, LIFEBOAT_LOG_LEVEL: 'warn' },
    });
    expect(code).toBe(64);
    expect(stderr).toContain('error[usage]: the target time "2026-11-29 14:02:59" has no time zone');
    expect(stderr).toContain('HINT: add the zone it is meant in, e.g. "2026-11-29 14:02:59Z"');
    expect(existsSync(join(restoresDir, 'cli-no-zone'))).toBe(false);
  });

  it('--exclusive, --inclusive or --target-action with --latest', () => {
    expect(refusalOf(() => parseRestoreTarget({ latest: true, exclusive: true })).message).toMatch(/--exclusive has no effect with --latest/);
    expect(refusalOf(() => parseRestoreTarget({ latest: true, inclusive: true })).message).toMatch(/--inclusive has no effect with --latest/);
    expect(refusalOf(() => parseRestoreTarget({ latest: true, targetAction: 'pause' })).message).toMatch(/--target-action has no effect with --latest/);
  });

  it('an unknown restore point name, listing the known ones', async () => {
    const error = await expectRefused({ name: 'unknown-point', toName: 'no-such-point' }, /no restore point named "no-such-point" is recorded for cluster "main"/);
    expect(error.hint).toContain('known-point');
  });

  it('too little disk space at the target (a 4 MiB tmpfs), and checkTargetDir on a fake state', async (context) => {
    const fake: TargetDirState = { path: '/restore/here', exists: false, entries: 0, owner: { uid: 1, gid: 1, name: 'postgres' }, freeBytes: 1e9 };
    expect(refusalOf(() => checkTargetDir(fake, { force: false, neededBytes: 3e9 })).message).toBe('not enough disk space at /restore/here: the restore needs 3.00 GB, 1.00 GB are free');
    expect(() => checkTargetDir(fake, { force: false, neededBytes: 5e8 })).not.toThrow();

    const small = join(restoresDir, 'small');
    mkdirSync(small);
    try {
      await runProcess('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0755', 'tmpfs', small]);
    } catch {
      context.skip('cannot mount a tmpfs here; the fake state above covers the check');
    }
    try {
      await expectRefused({ name: 'small', targetDir: join(small, 'data'), latest: true }, /not enough disk space at .*small\/data: the restore needs [\d.]+ GB, 0.00 GB are free/);
    } finally {
      await runProcess('umount', [small]);
    }
  });

  it('an fs repository the PostgreSQL OS user cannot read', async () => {
    const path = repositoryPath(source.fixture);
    await runProcess('chmod', ['0700', path]);
    try {
      const error = await expectRefused({ name: 'unreadable', latest: true }, /the PostgreSQL OS user postgres cannot read the fs repository/);
      expect(error.hint).toContain('run lifeboat as postgres');
    } finally {
      await runProcess('chmod', ['0755', path]);
    }
  });

  it('a WAL segment missing from the needed range, named', async () => {
    const dry = await runner.restore({ name: 'gap-plan', latest: true, dryRun: true });
    const victim = dry.result.plan.wal[2]!;
    expect(victim.source).toBe('segment');
    const file = join(repositoryPath(source.fixture), victim.key);
    renameSync(file, `${file}.away`);
    try {
      const error = await expectRefused({ name: 'gap', latest: true }, new RegExp(`WAL segment ${victim.segment} needed for this restore is not in the repository`));
      expect(error.code).toBe('objectNotFound');
    } finally {
      renameSync(`${file}.away`, file);
    }
  });

  it('a backup of another database system than the cluster recorded', async () => {
    const session = createDecryptionSession(source.repository.keys, {});
    try {
      const inputs = await loadRestoreInputs(source.repository.storage, session, 'main');
      const plan = (systemIdentifier: string): unknown =>
        planRestore({ cluster: 'main', ...inputs, segmentSizeBytes: inputs.identity.walSegmentSizeBytes, target: { kind: 'latest' }, timeline: 'latest', systemIdentifier });
      expect(() => plan(inputs.identity.systemIdentifier)).not.toThrow();
      const error = refusalOf(() => plan('42'));
      expect(error.code).toBe('objectCorrupted');
      expect(error.message).toContain(`is of database system ${backup.systemIdentifier}, but cluster "main" in the repository is system 42`);
    } finally {
      session.close();
    }
  });
});

/** `inner`, except that reading `key` fails as an unreachable store would: the in-process prefetch never has it. */
function withUnreadable(inner: Storage, key: string): Storage {
  return new Proxy(inner, {
    get(target, property, receiver) {
      if (property === 'get') {
        return (wanted: string, options?: GetOptions) =>
          wanted === key ? Promise.reject(new LifeboatError('storageUnavailable', `injected: ${key} cannot be read`)) : target.get(wanted, options);
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe('a restore_command failing mid-recovery', () => {
  it('stops recovery without promoting, reports the failure, and a restart resumes once the repository is back', async () => {
    const repo = repositoryPath(source.fixture);
    const away = `${repo}.away`;
    const targetDir = join(restoresDir, 'broken');
    const workDir = `${targetDir}.lifeboat-restore`;
    const logFile = join(workDir, 'postgres.log');
    // Past the backup's consistent point, where a "not found" would end recovery and promote early.
    const plannedWal = (await runner.restore({ name: 'broken', latest: true, dryRun: true })).result.plan.wal;
    const planned: string[] = plannedWal.map((w) => w.segment);
    const trigger = planned[planned.indexOf(backup.stopSegment) + 1]!;
    expect(planned.indexOf(trigger)).toBeLessThan(planned.length - 3);
    // The segment after it is out of reach for PostgreSQL until this test has acted, whatever the timing: the
    // postgres OS user cannot read its object (root-owned, now 0600), and the in-process prefetch never gets it.
    // So recovery reaches the trigger, then waits on a failing restore_command; only then does the repository go.
    const blocked = plannedWal[planned.indexOf(trigger) + 1]!;
    const blockedFile = join(repo, blocked.key);
    chmodSync(blockedFile, 0o600);
    const blockedRunner = createRestoreRunner({
      config: source.fixture.config,
      storage: withUnreadable(source.repository.storage, blocked.key),
      keys: source.repository.keys,
      log: source.log,
      baseDir: restoresDir,
      superuser: source.pg.superuser,
      bindir: source.pg.bindir,
    });
    let moved = false;
    let error: unknown;
    try {
      const restore = blockedRunner.restore({ name: 'broken', latest: true, start: true }).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      await waitFor('PostgreSQL to replay the trigger segment', () => existsSync(logFile) && readFileSync(logFile, 'utf8').includes(`restored log file "${trigger}" from archive`), { timeoutMs: 120_000, intervalMs: 50 });
      renameSync(repo, away);
      moved = true;
      error = await restore;
    } finally {
      await blockedRunner.stopAll();
      if (moved) renameSync(away, repo);
      chmodSync(blockedFile, 0o644);
    }
    expect(isLifeboatError(error, 'postgresTool'), `${String(error)}\n${readFileSync(logFile, 'utf8')}`).toBe(true);
    const message = (error as LifeboatError).message;
    expect(message).toContain('recovery stopped with an error; nothing was promoted');
    expect(message).toContain(`could not restore file "${blocked.segment}" from archive`);
    expect(isPostmasterRunning(targetDir)).toBe(false);

    const log = readFileSync(logFile, 'utf8');
    expect(log).toContain('consistent recovery state reached');
    expect(log).toContain(`restored log file "${trigger}" from archive`);
    expect(log).toContain(`error[storageUnavailable]: cannot fetch WAL ${blocked.segment} (4 attempts)`);
    expect(log).not.toContain(`restored log file "${blocked.segment}" from archive`);
    expect(log).not.toContain('selected new timeline ID');
    expect(log).not.toContain('archive recovery complete');
    const control = await runProcess(join(source.pg.bindir, 'pg_controldata'), ['-D', targetDir]);
    expect(control.stdout).toMatch(/Database cluster state:\s+in archive recovery/);

    // The repository is back: starting the server again resumes recovery and reaches the end of the WAL. The
    // restored configuration holds its port and socket folder, so a plain pg_ctl start needs no options.
    const port = (await readRestoredPort(targetDir))!;
    runner.track(targetDir);
    await runAsPostgres(join(source.pg.bindir, 'pg_ctl'), ['-D', targetDir, '-l', logFile, '-W', 'start']);
    try {
      await waitFor('the restarted recovery to promote', async () => (await runner.query<{ recovering: boolean }>({ port }, 'select pg_is_in_recovery() as recovering'))[0]?.recovering === false, { timeoutMs: 60_000 });
      expect((await runner.query<{ id: string }>({ port }, HISTORY_IDS_SQL)).map((row) => Number(row.id))).toEqual(sourceIds);
    } finally {
      await runner.stop(targetDir);
      rmSync(workDir, { recursive: true, force: true });
    }
  });
});

describe('a planned WAL segment gone from the reachable repository after the plan', () => {
  /** Restores --latest --start, moving `victim` out of the repository as soon as the base backup is being fetched. */
  async function restoreWithout(name: string, victim: PlannedWal, alsoDuringBase?: () => void): Promise<{ error: unknown; targetDir: string; logFile: string }> {
    const file = join(repositoryPath(source.fixture), victim.key);
    let moved = false;
    try {
      const error = await runner
        .restore({
          name,
          latest: true,
          start: true,
          // After the plan (it held the segment), before any WAL is fetched: the first base backup progress.
          onProgress: (phase) => {
            if (moved || phase !== 'base') return;
            renameSync(file, `${file}.away`);
            moved = true;
            alsoDuringBase?.();
          },
        })
        .then(
          () => undefined,
          (caught: unknown) => caught,
        );
      expect(moved).toBe(true);
      const targetDir = join(restoresDir, name);
      return { error, targetDir, logFile: join(`${targetDir}.lifeboat-restore`, 'postgres.log') };
    } finally {
      if (moved) renameSync(`${file}.away`, file);
    }
  }

  async function victimSegment(): Promise<PlannedWal> {
    const planned = (await runner.restore({ name: 'victim-plan', latest: true, dryRun: true })).result.plan.wal;
    // Well past the backup's consistent point, where PostgreSQL could end recovery and promote.
    const victim = planned[planned.findIndex((w) => w.segment === backup.stopSegment) + 3]!;
    expect(victim.source).toBe('segment');
    expect(planned.indexOf(victim)).toBeLessThan(planned.length - 2);
    return victim;
  }

  it('restore --latest --start fails naming it: wal fetch stops recovery instead of answering "not found"', async () => {
    const victim = await victimSegment();
    const { error, targetDir, logFile } = await restoreWithout('vanished', victim);
    try {
      expect(isLifeboatError(error), `expected a failure, got ${String(error)}`).toBe(true);
      expect((error as LifeboatError).message).toContain(`could not restore file "${victim.segment}" from archive`);
      expect(isPostmasterRunning(targetDir)).toBe(false);
      const log = readFileSync(logFile, 'utf8');
      expect(log).toContain(`WAL segment ${victim.segment} was planned for this restore but is no longer in the repository`);
      expect(log).not.toContain('selected new timeline ID');
    } finally {
      await runner.stop(targetDir);
    }
  });

  it('and when recovery did end early (a fetch config without the planned list), the restore fails naming it and stops the server', async () => {
    const victim = await victimSegment();
    const fetchConfig = join(restoresDir, 'vanished-old.lifeboat-restore', 'wal-fetch.json');
    // As a fetch config written before the planned list existed: wal fetch answers "not found" for the segment.
    const { error, targetDir } = await restoreWithout('vanished-old', victim, () => {
      const { plannedWal: _dropped, ...rest } = JSON.parse(readFileSync(fetchConfig, 'utf8')) as Record<string, unknown>;
      writeFileSync(fetchConfig, JSON.stringify(rest));
    });
    try {
      expect(isLifeboatError(error, 'objectNotFound'), `expected a failure, got ${String(error)}`).toBe(true);
      const message = (error as LifeboatError).message;
      expect(message).toMatch(/^recovery ended at LSN [0-9A-F]+\/[0-9A-F]+, short of the newest planned segment/);
      expect(message).toContain(`WAL segment ${victim.segment}, planned for this restore, is no longer in the repository; the server promoted early and was stopped`);
      expect(isPostmasterRunning(targetDir)).toBe(false);
    } finally {
      await runner.stop(targetDir);
    }
  });
});
