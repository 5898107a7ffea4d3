// The restore_command script a restore writes, run as PostgreSQL runs it (`sh script %f %p` in the data
// directory, as the postgres OS user): a prefetched file is moved into place without Node; anything else goes to
// `lifeboat wal fetch` (the built CLI). Every exit path: 0 served, 1 only for a file the repository lacks, 126 for
// a move that really fails (a parent that is a file, a pg_wal the user cannot write, a directory in the way).
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shutdownZstdPool } from '../../src/compress/index.js';
import { createEncryptionSession, createLocalKeyProvider } from '../../src/crypto/index.js';
import { writeObject } from '../../src/pipeline/index.js';
import { storeRestoreFetchConfig } from '../../src/restore/restore-fetch-config.js';
import { TEMP_NAME_PREFIX } from '../../src/restore/wal-fetch/atomic-file.js';
import { markAbsentWal } from '../../src/restore/wal-fetch/mark-absent-wal.js';
import { formatRestoreCommandScript, IN_FLIGHT_POLL_MS, parseRestoreCommandLog, restoreCommandFor, storeRestoreCommandScript } from '../../src/restore/wal-fetch/restore-command.js';
import { createFsStorage, walHistoryKey, walSegmentKey } from '../../src/storage/index.js';
import type { WalSegmentName } from '../../src/postgres/index.js';
import { postgresOsUser } from '../harness/run-as-postgres.js';
import { runProcess } from '../harness/run-process.js';
import { ensureCliBuilt } from '../harness/wal-archiver-runner.js';

const CLI = fileURLToPath(new URL('../../bin/lifeboat.js', import.meta.url));
const IN_REPOSITORY = '000000010000000000000001';
const ABSENT = '000000010000000000000009';
const PREFETCHED = '000000010000000000000002';
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** The work folder: a space and a quote in its name, which the script and restore_command must quote. */
let work: string;
let prefetchDir: string;
let logFile: string;
let pidFile: string;
let script: string;
let brokenScript: string;
let keepScript: string;
const stored = randomBytes(200 * 1024);
let dataDirs = 0;

interface ScriptRun {
  code: number | null;
  stderr: string;
  ms: number;
  dataDir: string;
}

/** A fresh fake data directory (with pg_wal), owned by the postgres OS user when we are root. */
async function createDataDir(prepare?: (dataDir: string) => Promise<void>): Promise<string> {
  const dataDir = join(work, `data-${++dataDirs}`);
  await mkdir(join(dataDir, 'pg_wal'), { recursive: true });
  await prepare?.(dataDir);
  const user = postgresOsUser();
  if (user) await runProcess('chown', ['-R', `${user.uid}:${user.gid}`, dataDir]);
  return dataDir;
}

/** Runs `script name path` in a data directory (default a fresh one), as the postgres OS user when we are root. */
async function runScript(scriptPath: string, name: string, options: { path?: string; dataDir?: string; prepare?: (dataDir: string) => Promise<void> } = {}): Promise<ScriptRun> {
  const dataDir = options.dataDir ?? (await createDataDir(options.prepare));
  const user = postgresOsUser();
  const started = performance.now();
  // What PostgreSQL does: its restore_command setting, with %f and %p replaced, through sh -c.
  const command = restoreCommandFor(scriptPath).replace('%f', name).replace('%p', options.path ?? 'pg_wal/RECOVERYXLOG').replace(/%%/g, '%');
  const child = spawn('/bin/sh', ['-c', command], {
    cwd: dataDir,
    env: { ...process.env, LIFEBOAT_LOG_LEVEL: 'warn', ...(user ? { HOME: user.home } : {}) },
    stdio: ['ignore', 'ignore', 'pipe'],
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  return { code, stderr, ms: performance.now() - started, dataDir };
}

const served = (run: ScriptRun): Buffer | undefined => (existsSync(join(run.dataDir, 'pg_wal', 'RECOVERYXLOG')) ? readFileSync(join(run.dataDir, 'pg_wal', 'RECOVERYXLOG')) : undefined);
const logLines = (): string[] => (existsSync(logFile) ? parseRestoreCommandLog(readFileSync(logFile, 'latin1')).map((line) => `${line.source} ${line.name}`) : []);

/** A prefetched file as the prefetcher leaves it: owned by the postgres OS user, under its final name. */
async function prefetch(name: string, content: Buffer): Promise<void> {
  await writeFile(join(prefetchDir, name), content, { mode: 0o600 });
  const user = postgresOsUser();
  if (user) await runProcess('chown', [`${user.uid}:${user.gid}`, join(prefetchDir, name)]);
}

beforeAll(async () => {
  ensureCliBuilt();
  const parent = await mkdtemp(join(tmpdir(), 'lb-restore-command-'));
  chmodSync(parent, 0o755);
  work = join(parent, "work it's 100%");
  prefetchDir = join(work, 'prefetch');
  await mkdir(prefetchDir, { recursive: true });
  await mkdir(join(work, 'repo'));
  const keyFile = join(work, 'lifeboat.key');
  const keys = await createLocalKeyProvider({ path: keyFile, createIfMissing: true });
  const session = createEncryptionSession(keys, { scope: { cluster: 'main', family: 'wal', backupId: 't' } });
  await writeObject({ storage: createFsStorage({ path: join(work, 'repo') }), key: walSegmentKey('main', IN_REPOSITORY, sha256(stored)), source: Readable.from([stored]), compression: { algorithm: 'zstd', level: 3 }, session });
  keys.close();
  logFile = join(work, 'restore-command.log');
  pidFile = join(work, 'prefetch.pid');
  const paths = { prefetchDir, logFile, prefetchPidFile: pidFile, lifeboatCommand: [process.execPath, CLI] as const };
  const fetchConfig = (name: string, repositoryPath: string): string => {
    const path = join(work, name);
    storeRestoreFetchConfig(path, { formatVersion: 1, cluster: 'main', repository: { driver: 'fs', path: repositoryPath }, encryption: { provider: 'local', keyFile }, prefetchDir, segmentSizeBytes: 16 * 1024 * 1024 });
    return path;
  };
  script = join(work, 'restore-command.sh');
  storeRestoreCommandScript(script, formatRestoreCommandScript({ ...paths, fetchConfigPath: fetchConfig('wal-fetch.json', join(work, 'repo')) }, 'test'));
  brokenScript = join(work, 'broken.sh');
  storeRestoreCommandScript(brokenScript, formatRestoreCommandScript({ ...paths, fetchConfigPath: fetchConfig('broken.json', join(work, 'no-such-repo')) }, 'test'));
  keepScript = join(work, 'keep.sh');
  storeRestoreCommandScript(keepScript, formatRestoreCommandScript({ ...paths, fetchConfigPath: fetchConfig('keep.json', join(work, 'repo')), keepSegment: PREFETCHED }, 'test'));
  const user = postgresOsUser();
  if (user) await runProcess('chown', ['-R', `${user.uid}:${user.gid}`, work]);
});

afterAll(async () => {
  await shutdownZstdPool();
  if (work) await rm(join(work, '..'), { recursive: true, force: true });
});

describe('restore_command script', () => {
  it('serves a prefetched segment with a move, starting no Node process: exit 0, same bytes, folder empty', async () => {
    const content = randomBytes(64 * 1024);
    await prefetch(PREFETCHED, content);
    await rm(logFile, { force: true });
    const run = await runScript(script, PREFETCHED);
    expect(run.code, run.stderr).toBe(0);
    expect(served(run)?.equals(content)).toBe(true);
    expect(readdirSync(prefetchDir)).toEqual([]);
    // `served` is written by the script itself; a Node start would have logged `fetch` first.
    expect(logLines()).toEqual([`served ${PREFETCHED}`]);
    expect(run.stderr).toBe('');
  });

  it('goes to lifeboat wal fetch for a file not prefetched: 0 when the repository has it, 1 when it does not, 126 when it cannot tell', async () => {
    await rm(logFile, { force: true });
    const [fetched, absent, broken] = await Promise.all([runScript(script, IN_REPOSITORY), runScript(script, ABSENT), runScript(brokenScript, ABSENT)]);
    expect(fetched.code, fetched.stderr).toBe(0);
    expect(served(fetched)?.equals(stored)).toBe(true);
    expect(absent.code, absent.stderr).toBe(1);
    expect(absent.stderr).toContain(`${ABSENT} is not in the repository`);
    expect(broken.code, broken.stderr).toBe(126);
    expect(broken.stderr).toContain('error[storageUnavailable]');
    expect(logLines().sort()).toEqual([`fetch ${ABSENT}`, `fetch ${ABSENT}`, `fetch ${IN_REPOSITORY}`].sort());
  });

  it('exits 126, never 1, when the move fails, keeping the prefetched file', async () => {
    const content = randomBytes(1024);
    await prefetch(PREFETCHED, content);
    // A real failing mv: the destination's parent is a file (ENOTDIR), even for root.
    const notADir = await runScript(script, PREFETCHED, { path: 'pg_wal/not-a-dir/RECOVERYXLOG', prepare: (dataDir) => writeFile(join(dataDir, 'pg_wal', 'not-a-dir'), 'x') });
    expect(notADir.code, notADir.stderr).toBe(126);
    expect(notADir.stderr).toMatch(/cannot put the prefetched 000000010000000000000002 at pg_wal\/not-a-dir\/RECOVERYXLOG[\s\S]*HINT: /);
    // A directory in the way: mv would move the file into it and report success.
    const directory = await runScript(script, PREFETCHED, { prepare: (dataDir) => mkdir(join(dataDir, 'pg_wal', 'RECOVERYXLOG')) });
    expect(directory.code, directory.stderr).toBe(126);
    expect(directory.stderr).toContain('is a directory');
    expect(readFileSync(join(prefetchDir, PREFETCHED)).equals(content)).toBe(true);
    await rm(join(prefetchDir, PREFETCHED));
  });

  it.runIf(postgresOsUser() !== undefined || process.getuid?.() !== 0)('exits 126 when pg_wal is read-only to the user PostgreSQL runs as', async () => {
    await prefetch(PREFETCHED, randomBytes(1024));
    const run = await runScript(script, PREFETCHED, { prepare: async (dataDir) => chmodSync(join(dataDir, 'pg_wal'), 0o555) });
    expect(run.code, run.stderr).toBe(126);
    expect(run.stderr).toMatch(/Permission denied[\s\S]*cannot put the prefetched/);
    expect(existsSync(join(prefetchDir, PREFETCHED))).toBe(true);
    await rm(join(prefetchDir, PREFETCHED));
  });

  it('waits for a download in flight instead of fetching it again, but not for a dead prefetcher', async () => {
    await rm(logFile, { force: true });
    const content = randomBytes(32 * 1024);
    const temp = join(prefetchDir, `${TEMP_NAME_PREFIX}${PREFETCHED}-in-flight`);
    await prefetch(`${TEMP_NAME_PREFIX}${PREFETCHED}-in-flight`, content);
    await writeFile(pidFile, `${process.pid}\n`);
    chmodSync(pidFile, 0o644);
    // Started at once (the data directory is ready): it finds the temp file and a live prefetcher, and waits.
    const running = runScript(script, PREFETCHED, { dataDir: await createDataDir() });
    await new Promise((resolve) => setTimeout(resolve, 400));
    await rename(temp, join(prefetchDir, PREFETCHED));
    const run = await running;
    expect(run.code, run.stderr).toBe(0);
    expect(served(run)?.equals(content)).toBe(true);
    expect(run.ms).toBeGreaterThanOrEqual(400);
    expect(logLines()).toEqual([`served ${PREFETCHED}`]);
    // The wait is in the log, for the restore's report of how replay was served.
    expect(parseRestoreCommandLog(readFileSync(logFile, 'latin1'))[0]!.waitedPolls).toBeGreaterThanOrEqual(400 / IN_FLIGHT_POLL_MS - 5);

    // The temp file of a prefetcher that died never becomes whole: the repository serves the segment at once.
    await prefetch(`${TEMP_NAME_PREFIX}${IN_REPOSITORY}-left-behind`, randomBytes(10));
    await writeFile(pidFile, '2147483646\n');
    const orphan = await runScript(script, IN_REPOSITORY);
    expect(orphan.code, orphan.stderr).toBe(0);
    expect(served(orphan)?.equals(stored)).toBe(true);
    expect(logLines()).toEqual([`served ${PREFETCHED}`, `fetch ${IN_REPOSITORY}`]);
    await rm(join(prefetchDir, `${TEMP_NAME_PREFIX}${IN_REPOSITORY}-left-behind`));
    await rm(pidFile);
  });

  it('copies the kept segment (read twice at the end of the WAL), answers timeline 1 history at once, and refuses other names', async () => {
    await rm(logFile, { force: true });
    const content = randomBytes(4096);
    await prefetch(PREFETCHED, content);
    const first = await runScript(keepScript, PREFETCHED);
    const second = await runScript(keepScript, PREFETCHED);
    for (const run of [first, second]) {
      expect(run.code, run.stderr).toBe(0);
      expect(served(run)?.equals(content)).toBe(true);
    }
    expect(logLines()).toEqual([`served ${PREFETCHED}`, `served ${PREFETCHED}`]);
    await rm(join(prefetchDir, PREFETCHED));

    const [history, outside] = await Promise.all([runScript(script, '00000001.history'), runScript(script, '../wal-fetch.json')]);
    expect(history.code, history.stderr).toBe(1);
    expect(outside.code, outside.stderr).toBe(126);
    expect(outside.stderr).toContain('error[usage]');
    // Timeline 1's history file was answered by the script alone.
    expect(logLines()).toEqual([`served ${PREFETCHED}`, `served ${PREFETCHED}`, 'fetch ../wal-fetch.json']);
  });

  it('answers 1 from an absent marker without Node while the restoring process lives, and ignores a stale one', async () => {
    await rm(logFile, { force: true });
    // What the restoring process leaves near the end of the plan: the repository (one history, segment 1) asked.
    const storage = createFsStorage({ path: join(work, 'repo') });
    const keyFile = join(work, 'lifeboat.key');
    const keys = await createLocalKeyProvider({ path: keyFile });
    const session = createEncryptionSession(keys, { scope: { cluster: 'main', family: 'wal', backupId: 't' } });
    await writeObject({ storage, key: walHistoryKey('main', 2), source: Readable.from([Buffer.from('1\t0/3000000\tno recovery target specified\n')]), compression: { algorithm: 'zstd', level: 3 }, session });
    keys.close();
    const user = postgresOsUser();
    const ask = (lastSegment: string, timeline: number): Promise<string[]> =>
      markAbsentWal({ storage, cluster: 'main', lastSegment: lastSegment as WalSegmentName, timeline, segmentSizeBytes: 16 * 1024 * 1024, prefetchDir, owner: user, signal: new AbortController().signal });
    // The segment after ...0 is stored (segment 1): no marker for it.
    expect(await ask('000000010000000000000000', 2)).toEqual(['00000003.history']);
    await prefetch(`${IN_REPOSITORY}.absent`, Buffer.alloc(0));
    // Timeline 2 is taken (its history is stored): PostgreSQL will ask for 3 next, which is free. A marker for a
    // name the repository has (left from an earlier answer) goes.
    expect(await ask('000000010000000000000008', 1)).toEqual([ABSENT, '00000003.history']);
    expect(readdirSync(prefetchDir).sort()).toEqual([`${ABSENT}.absent`, '00000003.history.absent']);

    await writeFile(pidFile, `${process.pid}\n`);
    chmodSync(pidFile, 0o644);
    const [segment, history] = await Promise.all([runScript(script, ABSENT), runScript(script, '00000003.history')]);
    for (const run of [segment, history]) {
      expect(run.code, run.stderr).toBe(1);
      // A Node start takes ~100 ms or more; the script alone a few.
      expect(run.ms).toBeLessThan(100);
    }
    expect(logLines().sort()).toEqual([`absent ${ABSENT}`, 'absent 00000003.history']);

    // Once the restoring process is gone a marker may be stale: the repository is asked again (it has segment 1).
    await prefetch(`${IN_REPOSITORY}.absent`, Buffer.alloc(0));
    await writeFile(pidFile, '2147483646\n');
    const stale = await runScript(script, IN_REPOSITORY);
    expect(stale.code, stale.stderr).toBe(0);
    expect(served(stale)?.equals(stored)).toBe(true);
    expect(logLines().at(-1)).toBe(`fetch ${IN_REPOSITORY}`);
    for (const name of [ABSENT, '00000003.history', IN_REPOSITORY]) await rm(join(prefetchDir, `${name}.absent`), { force: true });
    await rm(pidFile);
  });
});
