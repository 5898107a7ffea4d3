// runWalFetch's decisions on a real fs repository with the local key: a prefetched file wins (even while the
// repository is down), a complete segment beats partials, the newest partial is served under the plain name,
// and "not found" comes only from a listing that succeeded: an outage is retried, then thrown.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { shutdownZstdPool } from '../../src/compress/index.js';
import { createDecryptionSession, createEncryptionSession, createLocalKeyProvider, type KeyProvider } from '../../src/crypto/index.js';
import { isLifeboatError, LifeboatError } from '../../src/errors/index.js';
import { writeObject } from '../../src/pipeline/index.js';
import type { FetchRepository } from '../../src/restore/wal-fetch/open-fetch-repository.js';
import { runWalFetch, type RunWalFetchOptions } from '../../src/restore/wal-fetch/run-wal-fetch.js';
import { createFsStorage, walHistoryKey, walPartialKey, walSegmentKey, type Storage } from '../../src/storage/index.js';
import { createCapturedLog } from '../harness/captured-log.js';
import { createFaultyStorage, type FaultyStorage } from '../harness/faulty-storage.js';

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
let dir: string;
let keys: KeyProvider;
let storage: Storage;
let faulty: FaultyStorage;
/** What the injected openRepository hands out: `faulty` unless a test replaces it. */
let repository: Storage;
let opened: number;
let prefetchDir: string;
let outDir: string;

async function store(key: string, data: Buffer): Promise<void> {
  const session = createEncryptionSession(keys, { scope: { cluster: 'main', family: 'wal', backupId: 't' } });
  await writeObject({ storage, key, source: Readable.from([data]), compression: { algorithm: 'zstd', level: 3 }, session });
}

async function storeSegment(segment: string, data: Buffer): Promise<string> {
  const key = walSegmentKey('main', segment, sha256(data));
  await store(key, data);
  return key;
}

function fetch(name: string, overrides: Partial<RunWalFetchOptions> = {}): Promise<'served' | 'not-found'> {
  return runWalFetch({
    config: { cluster: 'main', repository: { driver: 'fs', path: join(dir, 'repo') }, encryption: { provider: 'local', keyFile: join(dir, 'key') }, prefetchDir },
    name,
    destination: join(outDir, 'RECOVERYXLOG'),
    retries: 2,
    retryDelayMs: 1,
    log: createCapturedLog().log,
    signal: new AbortController().signal,
    openRepository: async (): Promise<FetchRepository> => {
      opened++;
      return { storage: repository, session: createDecryptionSession(keys, { expectedScope: { cluster: 'main' } }), close: () => undefined };
    },
    ...overrides,
  });
}

const served = (): Promise<Buffer> => readFile(join(outDir, 'RECOVERYXLOG'));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lb-wal-fetch-run-'));
  await mkdir(join(dir, 'repo'));
  keys = await createLocalKeyProvider({ path: join(dir, 'key'), createIfMissing: true });
  storage = createFsStorage({ path: join(dir, 'repo') });
});

beforeEach(async () => {
  faulty = createFaultyStorage(storage);
  repository = faulty;
  opened = 0;
  prefetchDir = await mkdtemp(join(dir, 'prefetch-'));
  outDir = await mkdtemp(join(dir, 'pg_wal-'));
});

afterAll(async () => {
  keys.close();
  await shutdownZstdPool();
  await rm(dir, { recursive: true, force: true });
});

describe('runWalFetch', () => {
  it('serves a prefetched file by moving it, without opening the repository, even during an outage', async () => {
    const segment = '000000010000000000000001';
    await storeSegment(segment, randomBytes(1000));
    const prefetched = randomBytes(4096);
    await writeFile(join(prefetchDir, segment), prefetched);
    faulty.setFailing(true);
    expect(await fetch(segment)).toBe('served');
    expect(await served()).toEqual(prefetched);
    expect(await readdir(prefetchDir)).toEqual([]);
    expect(opened).toBe(0);
  });

  it('prefers the complete segment over a partial of the same name', async () => {
    const segment = '000000010000000000000002';
    const complete = randomBytes(8192);
    await storeSegment(segment, complete);
    await store(walPartialKey('main', segment, '0000000002FFFFFF'), randomBytes(8192));
    expect(await fetch(segment)).toBe('served');
    expect(await served()).toEqual(complete);
  });

  it('serves the newest partial under the plain segment name when no complete segment exists', async () => {
    const segment = '000000010000000000000003';
    const newest = randomBytes(8192);
    await store(walPartialKey('main', segment, '0000000003200000'), newest);
    await store(walPartialKey('main', segment, '0000000003100000'), randomBytes(8192));
    expect(await fetch(segment)).toBe('served');
    expect(await served()).toEqual(newest);
  });

  it('serves a history file', async () => {
    const history = Buffer.from('1\t0/3000000\tno recovery target specified\n');
    await store(walHistoryKey('main', 2), history);
    expect(await fetch('00000002.history')).toBe('served');
    expect(await served()).toEqual(history);
  });

  it('answers not-found when the listing succeeds and holds neither, writing nothing', async () => {
    expect(await fetch('000000010000000000000099')).toBe('not-found');
    expect(await fetch('00000009.history')).toBe('not-found');
    expect(await readdir(outDir)).toEqual([]);
  });

  it('a segment the restore planned but the repository no longer holds is a failure, never not-found; unplanned ones still are', async () => {
    const config = { cluster: 'main', repository: { driver: 'fs' as const, path: join(dir, 'repo') }, encryption: { provider: 'local' as const, keyFile: join(dir, 'key') }, prefetchDir };
    const plannedWal = [
      { first: '000000010000000000000090', last: '000000010000000000000095' },
      { first: '000000020000000000000095', last: '000000020000000000000097' },
    ];
    const capture = createCapturedLog('info', 'fatal');
    const error = await fetch('000000010000000000000092', { config: { ...config, plannedWal }, log: capture.log }).catch((e: unknown) => e);
    expect(isLifeboatError(error, 'objectNotFound')).toBe(true);
    expect((error as Error).message).toMatch(/cannot fetch WAL 000000010000000000000092 \(3 attempts\): WAL segment 000000010000000000000092 was planned for this restore but is no longer in the repository/);
    expect(await readdir(outDir)).toEqual([]);
    // Past the planned end, on a timeline the plan does not follow there, and history files: the archive's end.
    for (const name of ['000000020000000000000098', '000000020000000000000092', '00000003.history']) {
      expect(await fetch(name, { config: { ...config, plannedWal } })).toBe('not-found');
    }
  });

  it('never answers not-found while the listing fails: retries, then throws naming the file', async () => {
    faulty.setFailing(true);
    const capture = createCapturedLog('info', 'fatal');
    const error = await fetch('000000010000000000000099', { log: capture.log }).catch((e: unknown) => e);
    expect(isLifeboatError(error, 'storageUnavailable')).toBe(true);
    expect((error as Error).message).toMatch(/cannot fetch WAL 000000010000000000000099 \(3 attempts\)/);
    expect(capture.records.filter((r) => r.level === 'warn')).toHaveLength(2);
    expect(await readdir(outDir)).toEqual([]);
  });

  it('recovers when the outage ends within the retries', async () => {
    const segment = '000000010000000000000004';
    const content = randomBytes(2048);
    await storeSegment(segment, content);
    let failuresLeft = 2;
    repository = {
      ...storage,
      list(prefix, options) {
        if (failuresLeft-- > 0) throw new LifeboatError('storageUnavailable', 'injected: listing refused');
        return storage.list(prefix, options);
      },
    };
    expect(await fetch(segment, { log: createCapturedLog('info', 'fatal').log })).toBe('served');
    expect(await served()).toEqual(content);
    expect(failuresLeft).toBe(-1);
  });

  it('throws objectCorrupted for a damaged object and leaves nothing at the destination', async () => {
    const segment = '000000010000000000000006';
    const key = await storeSegment(segment, randomBytes(8192));
    const path = join(dir, 'repo', key);
    const bytes = await readFile(path);
    bytes[bytes.length - 100]! ^= 0xff;
    await writeFile(path, bytes);
    const error = await fetch(segment, { log: createCapturedLog('info', 'fatal').log }).catch((e: unknown) => e);
    expect(isLifeboatError(error, 'objectCorrupted')).toBe(true);
    expect((error as Error).message).toContain(segment);
    expect(await readdir(outDir)).toEqual([]);
  });

  it('refuses a name that is not a WAL file name as a usage error, without retrying', async () => {
    const error = await fetch('pg_wal/RECOVERYXLOG').catch((e: unknown) => e);
    expect(isLifeboatError(error, 'usage')).toBe(true);
    expect(opened).toBe(0);
  });
});
