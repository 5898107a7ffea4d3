// `lifeboat wal fetch` as PostgreSQL runs it (the built CLI as a child process) against real fs and S3 (moto)
// repositories: exit 0 with identical bytes for segments, partials, history files and prefetched files; exit 1
// only for a file the repository lacks; exit 126 (never 1) when the repository is unreachable or an object is
// damaged. And prefetchWal filling a folder in parallel, each file appearing only once whole.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { shutdownZstdPool } from '../../src/compress/index.js';
import { createDecryptionSession, createEncryptionSession, createLocalKeyProvider, type KeyProvider } from '../../src/crypto/index.js';
import { isLifeboatError } from '../../src/errors/index.js';
import { writeObject } from '../../src/pipeline/index.js';
import { storeRestoreFetchConfig, type RestoreFetchConfig } from '../../src/restore/restore-fetch-config.js';
import type { PlannedWal } from '../../src/restore/plan-restore.js';
import { prefetchWal } from '../../src/restore/wal-fetch/prefetch-wal.js';
import type { WalSegmentName } from '../../src/postgres/index.js';
import { createFsStorage, createS3Storage, walHistoryKey, walPartialKey, walSegmentKey, type Storage } from '../../src/storage/index.js';
import { freePort } from '../harness/free-port.js';
import { MOTO_CREDENTIALS } from '../harness/moto.js';
import { ensureCliBuilt } from '../harness/wal-archiver-runner.js';
import '../harness/provided-context.js';

const CLI = join(process.cwd(), 'bin', 'lifeboat.js');
const SEGMENT_BYTES = 16 * 1024 * 1024;
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

let dir: string;
let keyFile: string;
let keys: KeyProvider;
let fsRepo: Storage;
/** Contents stored in the fs repository, by file name. */
const stored = new Map<string, Buffer>();

interface CliRun {
  code: number | null;
  stderr: string;
}

function lifeboat(args: string[], cwd = dir): Promise<CliRun> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, LIFEBOAT_LOG_LEVEL: 'info' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stderr })));
}

async function store(storage: Storage, key: string, data: Buffer): Promise<string> {
  const session = createEncryptionSession(keys, { scope: { cluster: 'main', family: 'wal', backupId: 't' } });
  await writeObject({ storage, key, source: Readable.from([data]), compression: { algorithm: 'zstd', level: 3 }, session });
  return key;
}

/** A restore fetch config file for `repository`; returns its path. */
async function fetchConfig(name: string, repository: RestoreFetchConfig['repository'], prefetchDir = join(dir, 'prefetch')): Promise<string> {
  const path = join(dir, `${name}.json`);
  storeRestoreFetchConfig(path, { formatVersion: 1, cluster: 'main', repository, encryption: { provider: 'local', keyFile }, prefetchDir, segmentSizeBytes: SEGMENT_BYTES });
  return path;
}

/** Runs `wal fetch <name> pg_wal/RECOVERYXLOG` in a fresh fake data directory; returns the run and the file. */
async function walFetch(name: string, options: string[]): Promise<CliRun & { served: Buffer | undefined; leftovers: string[] }> {
  const dataDir = await mkdtemp(join(dir, 'data-'));
  await mkdir(join(dataDir, 'pg_wal'));
  const run = await lifeboat(['wal', 'fetch', name, 'pg_wal/RECOVERYXLOG', ...options], dataDir);
  const served = await readFile(join(dataDir, 'pg_wal', 'RECOVERYXLOG')).catch(() => undefined);
  const leftovers = (await readdir(join(dataDir, 'pg_wal'))).filter((file) => file !== 'RECOVERYXLOG');
  return { ...run, served, leftovers };
}

beforeAll(async () => {
  ensureCliBuilt();
  dir = await mkdtemp(join(tmpdir(), 'lb-wal-fetch-'));
  keyFile = join(dir, 'lifeboat.key');
  keys = await createLocalKeyProvider({ path: keyFile, createIfMissing: true });
  await mkdir(join(dir, 'repo'));
  await mkdir(join(dir, 'prefetch'));
  fsRepo = createFsStorage({ path: join(dir, 'repo') });
  const complete = randomBytes(256 * 1024);
  const partial = randomBytes(256 * 1024);
  const history = Buffer.from('1\t0/5000000\tno recovery target specified\n');
  const damaged = randomBytes(256 * 1024);
  // 01: complete segment plus an older partial of it; 02: two partials only; 03: complete, damaged below.
  await store(fsRepo, walSegmentKey('main', '000000010000000000000001', sha256(complete)), complete);
  await store(fsRepo, walPartialKey('main', '000000010000000000000001', '0000000001800000'), randomBytes(1024));
  await store(fsRepo, walPartialKey('main', '000000010000000000000002', '0000000002100000'), randomBytes(1024));
  await store(fsRepo, walPartialKey('main', '000000010000000000000002', '0000000002400000'), partial);
  await store(fsRepo, walHistoryKey('main', 2), history);
  const damagedKey = await store(fsRepo, walSegmentKey('main', '000000010000000000000003', sha256(damaged)), damaged);
  const path = join(dir, 'repo', damagedKey);
  const bytes = await readFile(path);
  bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
  await writeFile(path, bytes);
  stored.set('000000010000000000000001', complete).set('000000010000000000000002', partial).set('00000002.history', history);
});

afterAll(async () => {
  keys.close();
  await shutdownZstdPool();
  await rm(dir, { recursive: true, force: true });
});

describe('wal fetch on an fs repository', () => {
  it('serves a complete segment, the newest partial under the plain name, and a history file: exit 0, same bytes', async () => {
    const config = await fetchConfig('fs', { driver: 'fs', path: join(dir, 'repo') });
    const names = ['000000010000000000000001', '000000010000000000000002', '00000002.history'];
    const runs = await Promise.all(names.map((name) => walFetch(name, ['--restore-config', config])));
    for (const [index, name] of names.entries()) {
      const run = runs[index]!;
      expect(run.code, run.stderr).toBe(0);
      expect(run.served?.equals(stored.get(name)!)).toBe(true);
      expect(run.leftovers).toEqual([]);
    }
  });

  it('serves from the prefetch folder first, moving the file out', async () => {
    const prefetchDir = await mkdtemp(join(dir, 'prefetch-'));
    const prefetched = randomBytes(64 * 1024);
    await writeFile(join(prefetchDir, '000000010000000000000007'), prefetched);
    const run = await walFetch('000000010000000000000007', ['--restore-config', await fetchConfig('prefetch', { driver: 'fs', path: join(dir, 'repo') }, prefetchDir)]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.served?.equals(prefetched)).toBe(true);
    expect(await readdir(prefetchDir)).toEqual([]);
  });

  it('exits 1 for a segment or history file the repository does not hold', async () => {
    const config = await fetchConfig('fs', { driver: 'fs', path: join(dir, 'repo') });
    const names = ['000000010000000000000009', '00000003.history'];
    const runs = await Promise.all(names.map((name) => walFetch(name, ['--restore-config', config])));
    for (const [index, name] of names.entries()) {
      const run = runs[index]!;
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toContain(`${name} is not in the repository`);
      // Expected in every recovery: one plain line in PostgreSQL's log, not an error report.
      expect(run.stderr).not.toMatch(/error|HINT/);
      expect(run.served).toBeUndefined();
    }
  });

  it('exits 126, not 1, when the repository folder is not a folder or missing', async () => {
    await writeFile(join(dir, 'not-a-folder'), 'x');
    const configs = [await fetchConfig('file', { driver: 'fs', path: join(dir, 'not-a-folder') }), await fetchConfig('missing', { driver: 'fs', path: join(dir, 'missing') })];
    for (const run of await Promise.all(configs.map((config) => walFetch('000000010000000000000009', ['--restore-config', config, '--retries', '0'])))) {
      expect(run.code, run.stderr).toBe(126);
      expect(run.stderr).toMatch(/error\[storageUnavailable\]: cannot fetch WAL 000000010000000000000009: .*does not exist or is not a folder/);
      expect(run.stderr).toContain('HINT: ');
      expect(run.served).toBeUndefined();
    }
  });

  it('exits 126 for a damaged object after retrying, naming the segment, with nothing left in pg_wal', async () => {
    const run = await walFetch('000000010000000000000003', ['--restore-config', await fetchConfig('fs', { driver: 'fs', path: join(dir, 'repo') }), '--retries', '1']);
    expect(run.code, run.stderr).toBe(126);
    expect(run.stderr).toMatch(/error\[objectCorrupted\]: cannot fetch WAL 000000010000000000000003 \(2 attempts\)/);
    expect(run.stderr).toContain('fetching 000000010000000000000003 failed; retrying');
    expect(run.served).toBeUndefined();
    expect(run.leftovers).toEqual([]);
  });

  it('exits 126 for a malformed command line or a missing fetch config', async () => {
    const config = await fetchConfig('fs', { driver: 'fs', path: join(dir, 'repo') });
    const [swapped, missingPath, missingConfig] = await Promise.all([
      walFetch('pg_wal/RECOVERYXLOG', ['--restore-config', config]),
      lifeboat(['wal', 'fetch', '000000010000000000000001']),
      walFetch('000000010000000000000001', ['--restore-config', join(dir, 'nope.json')]),
    ]);
    expect(swapped.code, swapped.stderr).toBe(126);
    expect(swapped.stderr).toContain('error[usage]');
    expect(missingPath.code, missingPath.stderr).toBe(126);
    expect(missingPath.stderr).toContain("missing required argument 'path'");
    expect(missingConfig.code, missingConfig.stderr).toBe(126);
    expect(missingConfig.stderr).toContain('error[config]');
  });

  it('works from the normal config file without a prefetch folder', async () => {
    const configPath = join(dir, 'lifeboat.yaml');
    await writeFile(
      configPath,
      [
        'clusters:',
        '  - name: main',
        '    postgres: { host: 127.0.0.1, port: 5432, user: postgres, dbname: postgres }',
        `repository: { driver: fs, path: ${join(dir, 'repo')} }`,
        `encryption: { provider: local, keyFile: ${keyFile} }`,
        '',
      ].join('\n'),
    );
    const [run, absent] = await Promise.all([walFetch('000000010000000000000001', ['--config', configPath]), walFetch('000000010000000000000009', ['--config', configPath, '--cluster', 'main'])]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.served?.equals(stored.get('000000010000000000000001')!)).toBe(true);
    expect(absent.code, absent.stderr).toBe(1);
  });
});

describe('wal fetch on S3 (moto)', () => {
  it('serves a segment, answers 1 for an absent one, and exits 126 when the endpoint is closed', async () => {
    const moto = inject('motoPrimary');
    const bucket = `lb-wal-fetch-${randomBytes(4).toString('hex')}`;
    // The SDK marks credentials objects it is given (`$source`), which the fetch config schema refuses: copy each time.
    const credentials = (): { accessKeyId: string; secretAccessKey: string } => ({ accessKeyId: MOTO_CREDENTIALS.accessKeyId, secretAccessKey: MOTO_CREDENTIALS.secretAccessKey });
    await new S3Client({ region: moto.region, endpoint: moto.endpoint, forcePathStyle: true, credentials: credentials() }).send(
      new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: moto.region as 'eu-central-1' } }),
    );
    const repository = { driver: 's3' as const, bucket, region: moto.region, endpoint: moto.endpoint, forcePathStyle: true, prefix: 'repo/', credentials: credentials() };
    const content = randomBytes(256 * 1024);
    await store(createS3Storage({ ...repository, credentials: credentials() }), walSegmentKey('main', '000000010000000000000001', sha256(content)), content);

    const config = await fetchConfig('s3', repository);
    const closed = await fetchConfig('s3-closed', { ...repository, endpoint: `http://127.0.0.1:${await freePort()}` });
    const [served, absent, unreachable] = await Promise.all([
      walFetch('000000010000000000000001', ['--restore-config', config]),
      walFetch('000000010000000000000002', ['--restore-config', config]),
      walFetch('000000010000000000000001', ['--restore-config', closed, '--retries', '0']),
    ]);
    expect(served.code, served.stderr).toBe(0);
    expect(served.served?.equals(content)).toBe(true);
    expect(absent.code, absent.stderr).toBe(1);
    expect(unreachable.code, unreachable.stderr).toBe(126);
    expect(unreachable.stderr).toMatch(/error\[storageUnavailable\]: cannot fetch WAL 000000010000000000000001/);
  });
});

describe('prefetchWal', () => {
  /** fs storage whose reads trickle, so downloads overlap; counts reads in flight and their start order. */
  function slowStorage(inner: Storage): Storage & { maxActive: number; started: string[] } {
    let active = 0;
    const slow = {
      ...inner,
      maxActive: 0,
      started: [] as string[],
      async get(key: string, options?: Parameters<Storage['get']>[1]): Promise<Readable> {
        slow.started.push(key);
        active++;
        slow.maxActive = Math.max(slow.maxActive, active);
        // The wrapper, not the inner stream, answers to the signal (readObject destroys it), and ends the read.
        const body = await inner.get(key, { ...options, signal: undefined });
        return Readable.from(
          (async function* () {
            try {
              for await (const chunk of body) {
                await sleep(3);
                yield chunk as Buffer;
              }
            } finally {
              active--;
              body.destroy();
            }
          })(),
        );
      },
    };
    return slow;
  }

  it('downloads segments in parallel, earliest first, each appearing only when complete; resumes by skipping', async () => {
    const repo = createFsStorage({ path: join(dir, 'repo') });
    const contents = new Map<string, Buffer>();
    const plan: PlannedWal[] = [];
    for (let n = 0x10; n < 0x18; n++) {
      const segment = `0000000100000000000000${n.toString(16).toUpperCase()}` as WalSegmentName;
      const data = randomBytes(512 * 1024);
      contents.set(segment, data);
      const last = n === 0x17;
      const key = last ? walPartialKey('main', segment, '0000000017400000') : walSegmentKey('main', segment, sha256(data));
      await store(repo, key, data);
      const storedSizeBytes = (await repo.head(key))!.sizeBytes;
      plan.push({ segment, key, source: last ? 'partial' : 'segment', storedSizeBytes, ...(last ? {} : { sha256: sha256(data) }) });
    }
    contents.set('00000002.history', stored.get('00000002.history')!);
    const prefetchDir = join(dir, 'prefetch-parallel');
    await mkdir(prefetchDir);
    await writeFile(join(prefetchDir, '.lifeboat-tmp-000000010000000000000010-left-by-a-crash'), 'junk');

    // Watch the folder while it fills: any final name must already have its full size.
    const violations: string[] = [];
    const watcher = setInterval(() => {
      for (const name of readdirSync(prefetchDir)) {
        if (name.startsWith('.lifeboat-tmp-')) continue;
        const size = statSync(join(prefetchDir, name), { throwIfNoEntry: false })?.size;
        if (size !== undefined && size !== contents.get(name)?.length) violations.push(`${name}: ${size}`);
      }
    }, 1);
    const slow = slowStorage(repo);
    const progress: [number, number, number][] = [];
    const session = createDecryptionSession(keys);
    const shuffled = [...plan].sort(() => Math.random() - 0.5);
    try {
      const result = await prefetchWal({
        storage: slow,
        session,
        cluster: 'main',
        wal: shuffled,
        historyKeys: [walHistoryKey('main', 2)],
        prefetchDir,
        concurrency: 4,
        signal: new AbortController().signal,
        onProgress: (...args) => progress.push(args),
      });
      expect(result).toMatchObject({ downloadedFiles: 9, skippedFiles: 0 });
    } finally {
      clearInterval(watcher);
    }
    expect(violations).toEqual([]);
    expect(slow.maxActive).toBe(4);
    // Started in plan order, give or take the reads picked up at the same moment by the 4 workers.
    const order = [walHistoryKey('main', 2), ...plan.map((p) => p.key)];
    expect([...slow.started].sort()).toEqual([...order].sort());
    for (const [index, key] of order.entries()) expect(Math.abs(slow.started.indexOf(key) - index), key).toBeLessThan(4);
    expect((await readdir(prefetchDir)).sort()).toEqual([...contents.keys()].sort());
    for (const [name, data] of contents) expect((await readFile(join(prefetchDir, name))).equals(data), name).toBe(true);
    const totalBytes = plan.reduce((sum, p) => sum + p.storedSizeBytes, 0);
    expect(progress.at(-1)).toEqual([totalBytes, totalBytes, 9]);

    // A resumed restore keeps what is there: nothing is read again.
    const again = slowStorage(repo);
    const resumed = await prefetchWal({ storage: again, session, cluster: 'main', wal: plan, historyKeys: [walHistoryKey('main', 2)], prefetchDir, signal: new AbortController().signal });
    expect(resumed).toMatchObject({ downloadedFiles: 0, skippedFiles: 9 });
    expect(again.started).toEqual([]);
  });

  it('keeps the folder within the window while replay takes files, and drops what replay fetched itself', async () => {
    const repo = createFsStorage({ path: join(dir, 'repo') });
    const segmentBytes = 256 * 1024;
    const plan: PlannedWal[] = [];
    const contents = new Map<string, Buffer>();
    for (let n = 0x20; n < 0x28; n++) {
      const segment = `0000000100000000000000${n.toString(16).toUpperCase()}` as WalSegmentName;
      const data = randomBytes(segmentBytes);
      contents.set(segment, data);
      const key = walSegmentKey('main', segment, sha256(data));
      await store(repo, key, data);
      plan.push({ segment, key, source: 'segment', storedSizeBytes: (await repo.head(key))!.sizeBytes, sha256: sha256(data) });
    }
    const work = await mkdtemp(join(dir, 'window-'));
    const prefetchDir = join(work, 'prefetch');
    const commandLogFile = join(work, 'restore-command.log');
    const windowBytes = 2 * segmentBytes;
    // Sample the folder as often as the event loop lets us: every byte in it, temp files included.
    let maxBytes = 0;
    const sampler = setInterval(() => {
      let bytes = 0;
      // The prefetch creates the folder: the first samples may come before it.
      const names = existsSync(prefetchDir) ? (readdirSync(prefetchDir, { withFileTypes: false }) as string[]) : [];
      for (const name of names) bytes += statSync(join(prefetchDir, name), { throwIfNoEntry: false })?.size ?? 0;
      maxBytes = Math.max(maxBytes, bytes);
    }, 1);
    const controller = new AbortController();
    const running = prefetchWal({ storage: slowStorage(repo), session: createDecryptionSession(keys), cluster: 'main', wal: plan, historyKeys: [], prefetchDir, concurrency: 4, windowBytes, segmentSizeBytes: segmentBytes, commandLogFile, signal: controller.signal });
    // Replay: takes each segment in order as restore_command does, except 0x25, which it had `wal fetch` fetch.
    const taken: string[] = [];
    try {
      for (const { segment } of plan) {
        if (segment.endsWith('25')) {
          await writeFile(commandLogFile, `fetch ${segment}\n`, { flag: 'a' });
          continue;
        }
        const path = join(prefetchDir, segment);
        while (statSync(path, { throwIfNoEntry: false }) === undefined) await sleep(2);
        await sleep(5);
        const data = await readFile(path);
        await rm(path);
        expect(data.equals(contents.get(segment)!), segment).toBe(true);
        taken.push(segment);
      }
      const result = await running;
      expect(result.peakHeldBytes).toBeLessThanOrEqual(windowBytes);
      expect(result.downloadedFiles + result.droppedFiles).toBeGreaterThanOrEqual(plan.length);
    } finally {
      controller.abort();
      await running.catch(() => undefined);
      clearInterval(sampler);
    }
    expect(taken).toHaveLength(plan.length - 1);
    expect(maxBytes).toBeGreaterThan(0);
    expect(maxBytes).toBeLessThanOrEqual(windowBytes);
    // 0x25 was fetched by `wal fetch`: dropped from the folder (or never downloaded), so nothing is left behind.
    expect(await readdir(prefetchDir)).toEqual([]);
  });

  it('without replay, fetches only the first window and says so', async () => {
    const repo = createFsStorage({ path: join(dir, 'repo') });
    const completeKey = walSegmentKey('main', '000000010000000000000001', sha256(stored.get('000000010000000000000001')!));
    const partialKey = walPartialKey('main', '000000010000000000000002', '0000000002400000');
    const plan: PlannedWal[] = [
      { segment: '000000010000000000000001' as WalSegmentName, key: completeKey, source: 'segment', storedSizeBytes: (await repo.head(completeKey))!.sizeBytes },
      { segment: '000000010000000000000002' as WalSegmentName, key: partialKey, source: 'partial', storedSizeBytes: (await repo.head(partialKey))!.sizeBytes },
    ];
    const prefetchDir = join(await mkdtemp(join(dir, 'first-window-')), 'prefetch');
    const result = await prefetchWal({ storage: repo, session: createDecryptionSession(keys), cluster: 'main', wal: plan, historyKeys: [walHistoryKey('main', 2)], prefetchDir, windowBytes: 1024 * 1024 + SEGMENT_BYTES, segmentSizeBytes: SEGMENT_BYTES, firstWindowOnly: true, signal: new AbortController().signal });
    expect(result).toMatchObject({ downloadedFiles: 2, stoppedAtWindow: true });
    expect((await readdir(prefetchDir)).sort()).toEqual(['000000010000000000000001', '00000002.history']);
  });

  it('stops on abort with LifeboatError aborted, leaving only whole files and no temp files', async () => {
    const repo = createFsStorage({ path: join(dir, 'repo') });
    const prefetchDir = join(dir, 'prefetch-abort');
    const name = '000000010000000000000001';
    const key = walSegmentKey('main', name, sha256(stored.get(name)!));
    const plan: PlannedWal[] = [{ segment: name as WalSegmentName, key, source: 'segment', storedSizeBytes: (await repo.head(key))!.sizeBytes }];
    const controller = new AbortController();
    const slow = slowStorage(repo);
    const running = prefetchWal({ storage: slow, session: createDecryptionSession(keys), cluster: 'main', wal: plan, historyKeys: [], prefetchDir, signal: controller.signal });
    while (slow.started.length === 0) await sleep(1);
    controller.abort(new Error('test abort'));
    const error = await running.catch((e: unknown) => e);
    expect(isLifeboatError(error, 'aborted'), String(error)).toBe(true);
    expect(await readdir(prefetchDir)).toEqual([]);
  });

  it('fails naming the segment when its checksum does not match, leaving no file under its name', async () => {
    const repo = createFsStorage({ path: join(dir, 'repo') });
    const prefetchDir = join(dir, 'prefetch-bad');
    const key = walSegmentKey('main', '000000010000000000000001', sha256(stored.get('000000010000000000000001')!));
    const plan: PlannedWal[] = [{ segment: '000000010000000000000001' as WalSegmentName, key, source: 'segment', storedSizeBytes: (await repo.head(key))!.sizeBytes, sha256: 'f'.repeat(64) }];
    const error = await prefetchWal({ storage: repo, session: createDecryptionSession(keys), cluster: 'main', wal: plan, historyKeys: [], prefetchDir, signal: new AbortController().signal }).catch((e: unknown) => e);
    expect(isLifeboatError(error, 'objectCorrupted')).toBe(true);
    expect((error as Error).message).toMatch(/^cannot prefetch 000000010000000000000001: .*fails its content checksum/);
    expect(await readdir(prefetchDir)).toEqual([]);
  });
});
