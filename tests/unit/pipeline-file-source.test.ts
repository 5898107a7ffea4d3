// writeObject from a block source (a file read straight into the compressor's blocks): the same record and bytes
// as from a stream, for every algorithm and around the block size; the source is closed however the write ends;
// its failures come back unchanged and leave nothing stored.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { shutdownZstdPool, type BlockSource } from '../../src/compress/index.js';
import { createDecryptionSession, createEncryptionSession, createLocalKeyProviderFromKey } from '../../src/crypto/index.js';
import { isLifeboatError } from '../../src/errors/index.js';
import { fileSource, readObject, writeObject } from '../../src/pipeline/index.js';
import { createFsStorage } from '../../src/storage/fs-storage.js';
import type { Storage } from '../../src/storage/storage.js';
import { collect } from '../harness/streams.js';

const MIB = 1024 * 1024;
/** The zstd compressor's block size: sizes around it exercise the last, short and empty reads. */
const BLOCK = 2 * MIB;
const provider = createLocalKeyProviderFromKey(randomBytes(32), 'test key');
const scope = { cluster: 'main', family: 'wal', backupId: 'wal' } as const;
let root: string;
let storage: Storage;

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** Half text, half random: compressible, but not to nothing. */
function content(sizeBytes: number): Buffer {
  const data = Buffer.alloc(sizeBytes);
  const text = Buffer.from('0/16000028 INSERT INTO accounts VALUES (42, 1000);\n'.repeat(64));
  for (let offset = 0; offset < sizeBytes; offset += 2 * text.length) {
    text.copy(data, offset);
    randomBytes(text.length).copy(data, Math.min(offset + text.length, sizeBytes));
  }
  return data;
}

/** A block source that counts its closes, around another. */
function counted(inner: BlockSource): BlockSource & { closes: number } {
  const wrapper = {
    closes: 0,
    readInto: (target: Uint8Array) => inner.readInto(target),
    close: async () => {
      wrapper.closes++;
      await inner.close();
    },
  };
  return wrapper;
}

async function writeFileContent(name: string, data: Buffer): Promise<string> {
  const path = join(root, name);
  await writeFile(path, data);
  return path;
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'lifeboat-file-source-'));
  await mkdir(join(root, 'repo'));
  storage = createFsStorage({ path: join(root, 'repo') });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});
afterAll(async () => {
  await shutdownZstdPool();
});

describe('fileSource', () => {
  it('fills each target whole, then returns what is left, then 0', async () => {
    const data = content(BLOCK + 5);
    const source = fileSource(await writeFileContent('f', data));
    const target = new Uint8Array(new SharedArrayBuffer(BLOCK));
    expect(await source.readInto(target)).toBe(BLOCK);
    expect(Buffer.from(target).equals(data.subarray(0, BLOCK))).toBe(true);
    expect(await source.readInto(target)).toBe(5);
    expect(Buffer.from(target.subarray(0, 5)).equals(data.subarray(BLOCK))).toBe(true);
    expect(await source.readInto(target)).toBe(0);
    await source.close();
    await source.close();
    await expect(source.readInto(target)).rejects.toThrow('after it was closed');
  });

  it('a missing file fails the first read with the fs error, not the call', async () => {
    const source = fileSource(join(root, 'nope'));
    await expect(source.readInto(new Uint8Array(16))).rejects.toMatchObject({ code: 'ENOENT' });
    await source.close();
  });
});

describe('writeObject from a block source', () => {
  for (const algorithm of ['zstd', 'gzip', 'none'] as const) {
    for (const sizeBytes of [0, 1, BLOCK, BLOCK + 1, 4 * BLOCK, 5 * MIB + 7]) {
      it(`${algorithm}, ${sizeBytes} bytes: the same record and bytes as from a stream, and the file is closed`, async () => {
        const data = content(sizeBytes);
        const path = await writeFileContent(`segment-${sizeBytes}`, data);
        const source = counted(fileSource(path));
        const session = createEncryptionSession(provider, { scope });
        const record = await writeObject({ storage, key: `wal/a-${sizeBytes}`, source, compression: { algorithm }, session });
        expect(source.closes).toBe(1);
        const fromStream = await writeObject({ storage, key: `wal/b-${sizeBytes}`, source: Readable.from([data]), compression: { algorithm }, session });
        const stored = await readFile(join(root, 'repo', `wal/a-${sizeBytes}`));
        expect(record.plaintextSha256).toBe(sha256(data));
        expect(record.plaintextSizeBytes).toBe(sizeBytes);
        expect(record.storedSha256).toBe(sha256(stored));
        expect(record.storedSizeBytes).toBe(stored.length);
        // Same frames as the streamed write: only the encryption (a fresh IV per message) differs.
        expect(record.storedSizeBytes).toBe(fromStream.storedSizeBytes);
        const restored = await collect(readObject({ storage, key: record.key, session: createDecryptionSession(provider), expected: record }));
        expect(restored.equals(data)).toBe(true);
      });
    }
  }

  it('a missing file -> the fs error unchanged, nothing stored, the source closed', async () => {
    const source = counted(fileSource(join(root, 'gone')));
    const session = createEncryptionSession(provider, { scope });
    const error = await writeObject({ storage, key: 'wal/gone', source, compression: { algorithm: 'zstd' }, session }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ENOENT' });
    expect(isLifeboatError(error)).toBe(false);
    expect(source.closes).toBe(1);
    expect(await storage.head('wal/gone')).toBeUndefined();
  });

  for (const algorithm of ['zstd', 'gzip'] as const) {
    it(`${algorithm}: a read failing after some blocks -> that error, nothing stored, the source closed`, async () => {
      const failure = new Error('disk read error');
      let reads = 0;
      const source = counted({
        readInto: async (target) => {
          if (++reads === 4) throw failure;
          target.fill(7);
          return target.length;
        },
        close: async () => undefined,
      });
      const session = createEncryptionSession(provider, { scope });
      const error = await writeObject({ storage, key: 'wal/broken', source, compression: { algorithm }, session }).catch((e: unknown) => e);
      expect(error).toBe(failure);
      expect(source.closes).toBe(1);
      expect(await storage.head('wal/broken')).toBeUndefined();
    });
  }

  it('a source that throws a non-Error -> that value as an Error, not a lifeboat bug', async () => {
    const session = createEncryptionSession(provider, { scope });
    const source = counted({ readInto: () => Promise.reject('device gone'), close: async () => undefined });
    const error = await writeObject({ storage, key: 'wal/odd', source, compression: { algorithm: 'zstd' }, session }).catch((e: unknown) => e);
    expect(isLifeboatError(error)).toBe(false);
    expect((error as Error).message).toBe('device gone');
    expect(source.closes).toBe(1);
  });

  it('abort while reading -> aborted, nothing stored, the source closed', async () => {
    const controller = new AbortController();
    let reads = 0;
    const source = counted({
      readInto: async (target) => {
        if (++reads === 3) controller.abort();
        await new Promise((resolve) => setTimeout(resolve, 5));
        target.fill(1);
        return target.length;
      },
      close: async () => undefined,
    });
    const session = createEncryptionSession(provider, { scope });
    const error = await writeObject({ storage, key: 'wal/aborted', source, compression: { algorithm: 'zstd' }, session, signal: controller.signal })
      .catch((e: unknown) => e);
    expect(isLifeboatError(error, 'aborted')).toBe(true);
    expect(source.closes).toBe(1);
    expect(reads).toBeLessThan(10);
    expect(await storage.head('wal/aborted')).toBeUndefined();
  });

  it('a bad level -> the config error, and the source is still closed', async () => {
    const source = counted(fileSource(await writeFileContent('f', content(10))));
    const session = createEncryptionSession(provider, { scope });
    const error = await writeObject({ storage, key: 'wal/lvl', source, compression: { algorithm: 'zstd', level: 99 }, session }).catch((e: unknown) => e);
    expect(isLifeboatError(error, 'config')).toBe(true);
    expect(source.closes).toBe(1);
  });
});
