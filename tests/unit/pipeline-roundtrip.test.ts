// writeObject/readObject on a real fs repository with the local key: both checksums equal SHA-256 computed
// independently (of the content, and of the file as stored), every algorithm round trips, and damage, wrong
// keys, wrong records, aborts and failing sources each end in their own error naming the key. readObjectInto (the
// same read into a sink) round trips too and fails with the very same errors.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Readable } from 'node:stream';
import { afterAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { configureZstdPool, shutdownZstdPool, zstdThreadCount, type CompressionAlgorithm } from '../../src/compress/index.js';
import { createDecryptionSession, createEncryptionSession, createLocalKeyProviderFromKey } from '../../src/crypto/index.js';
import { isLifeboatError, LifeboatError, type ErrorCode } from '../../src/errors/index.js';
import { readObject, readObjectInto, storedObjectSchema, writeObject, type ExpectedChecksums, type StoredObject } from '../../src/pipeline/index.js';
import { createFsStorage } from '../../src/storage/fs-storage.js';
import type { Storage } from '../../src/storage/storage.js';
import { collect } from '../harness/streams.js';

const MIB = 1024 * 1024;
const provider = createLocalKeyProviderFromKey(randomBytes(32), 'test key');
const scope = { cluster: 'main', family: 'base', backupId: '20240601T120000Z' } as const;
let root: string;
let storage: Storage;

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** Compressible content: text rows with some random bytes mixed in. */
function content(sizeBytes: number): Buffer {
  const rows = Buffer.from(Array.from({ length: 2000 }, (_, i) => `${i},row ${i % 97},${(i * 7919) % 10007}\n`).join(''));
  const data = Buffer.alloc(sizeBytes);
  for (let offset = 0; offset < sizeBytes; offset += rows.length + 512) {
    rows.copy(data, offset);
    randomBytes(512).copy(data, Math.min(offset + rows.length, sizeBytes));
  }
  return data;
}

function source(data: Buffer, chunkBytes = 256 * 1024): Readable {
  return Readable.from((function* () {
    for (let offset = 0; offset < data.length; offset += chunkBytes) yield data.subarray(offset, offset + chunkBytes);
  })());
}

async function write(key: string, data: Buffer, algorithm: CompressionAlgorithm = 'zstd'): Promise<StoredObject> {
  const session = createEncryptionSession(provider, { scope });
  return writeObject({ storage, key, source: source(data), compression: { algorithm }, session, createOnly: true });
}

/** Reads `key` into memory through readObjectInto (copying each chunk, which the sink may not keep). */
async function readInto(options: Parameters<typeof readObjectInto>[0]): Promise<Buffer> {
  const parts: Buffer[] = [];
  const sizeBytes = await readObjectInto(options, async (chunk) => void parts.push(Buffer.from(chunk)));
  const data = Buffer.concat(parts);
  expect(sizeBytes).toBe(data.length);
  return data;
}

async function readError(key: string, code: ErrorCode, expected?: ExpectedChecksums, reader = provider): Promise<LifeboatError> {
  const error = await collect(readObject({ storage, key, session: createDecryptionSession(reader), expected })).then(() => undefined, (e: unknown) => e);
  expect(error, `expected ${code}`).toBeInstanceOf(Error);
  expect((error as LifeboatError).code, String(error)).toBe(code);
  expect(isLifeboatError(error, code)).toBe(true);
  expect((error as Error).message).toContain(key);
  // The sink reader fails the same way (with a record, two checks may race to report the same damage first).
  const intoError = await readInto({ storage, key, session: createDecryptionSession(reader), ...(expected ? { expected } : {}) }).then(() => undefined, (e: unknown) => e);
  expect(isLifeboatError(intoError, code), String(intoError)).toBe(true);
  if (expected === undefined) expect((intoError as Error).message).toBe((error as Error).message);
  else expect((intoError as Error).message).toContain(key);
  return error as LifeboatError;
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'lifeboat-pipeline-'));
  storage = createFsStorage({ path: root });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});
afterAll(async () => {
  await shutdownZstdPool();
});

describe('writeObject and readObject', () => {
  for (const algorithm of ['zstd', 'gzip', 'none'] as const) {
    for (const sizeBytes of [0, 1, 9 * MIB + 7]) {
      it(`${algorithm}, ${sizeBytes} bytes: both checksums match independent sha256, and it reads back`, async () => {
        const data = content(sizeBytes);
        const key = `base/${scope.backupId}/data-${algorithm}-${sizeBytes}`;
        const record = await write(key, data, algorithm);
        const stored = await readFile(join(root, key));
        expect(record).toEqual({
          key,
          plaintextSizeBytes: sizeBytes,
          storedSizeBytes: stored.length,
          plaintextSha256: sha256(data),
          storedSha256: sha256(stored),
          compression: { algorithm, level: { zstd: 3, gzip: 6, none: 0 }[algorithm] },
          encryption: { provider: 'local', keyId: provider.keyId },
        });
        expect(storedObjectSchema.parse(JSON.parse(JSON.stringify(record)))).toEqual(record);
        if (algorithm === 'zstd' && sizeBytes > MIB) expect(stored.length).toBeLessThan(sizeBytes / 2);
        // Read back with nothing but the key: the algorithm comes from the object's header.
        const reader = createDecryptionSession(provider, { expectedScope: { cluster: 'main' } });
        const restored = await collect(readObject({ storage, key, session: reader, expected: record, expectedScope: { family: 'base', backupId: scope.backupId } }));
        expect(restored.equals(data)).toBe(true);
        expect((await readInto({ storage, key, session: reader, expected: record, expectedScope: { family: 'base', backupId: scope.backupId } })).equals(data)).toBe(true);
      });
    }
  }

  it('records the configured level', async () => {
    const session = createEncryptionSession(provider, { scope });
    const record = await writeObject({ storage, key: 'lvl', source: source(content(MIB)), compression: { algorithm: 'zstd', level: 9 }, session });
    expect(record.compression).toEqual({ algorithm: 'zstd', level: 9 });
  });

  it('a flipped byte in the stored file -> objectCorrupted', async () => {
    const key = 'base/flip';
    const record = await write(key, content(3 * MIB));
    const path = join(root, key);
    const stored = await readFile(path);
    const middle = Math.floor(stored.length / 2);
    stored.writeUInt8(stored.readUInt8(middle) ^ 0x10, middle);
    await writeFile(path, stored);
    const error = await readError(key, 'objectCorrupted');
    expect(error.message).toBe(`object ${key} failed authentication: its bytes were altered after it was written`);
    // With the record too, whichever check sees it first (frame tag or stored checksum) reports it.
    await readError(key, 'objectCorrupted', record);
  });

  it('a valid object put in the place of another -> objectCorrupted by the stored checksum', async () => {
    const data = content(2 * MIB);
    const original = await write('base/original', data);
    await write('base/twin', data);
    // Same content and scope, so it decrypts fine; only the record can tell it is not the object written.
    await writeFile(join(root, 'base/original'), await readFile(join(root, 'base/twin')));
    const error = await readError('base/original', 'objectCorrupted', original);
    expect(error.message).toMatch(new RegExp(`^object base/original fails its stored checksum: sha256 [0-9a-f]{64}, its record says ${original.storedSha256}$`));
  });

  it('a truncated stored file -> objectTruncated', async () => {
    const key = 'base/cut';
    const record = await write(key, content(3 * MIB));
    await truncate(join(root, key), record.storedSizeBytes - 1000);
    expect((await readError(key, 'objectTruncated')).message).toBe(`object ${key} is truncated: it ends before its final frame`);
    expect((await readError(key, 'objectTruncated', record)).message).toBe(
      `object ${key} is truncated: ${record.storedSizeBytes - 1000} bytes stored, its record says ${record.storedSizeBytes}`,
    );
  });

  it('another key -> wrongKey', async () => {
    const key = 'base/other-key';
    await write(key, content(1000));
    const error = await readError(key, 'wrongKey', undefined, createLocalKeyProviderFromKey(randomBytes(32), 'other'));
    expect(error.message).toMatch(new RegExp(`^cannot decrypt object ${key}: key id [0-9a-f]{16} is not the key it was encrypted with \\(it needs local key id ${provider.keyId}\\)$`));
  });

  it('a record that does not match -> objectCorrupted naming the checksum', async () => {
    const key = 'base/record';
    const record = await write(key, content(2 * MIB));
    const wrongSha = 'f'.repeat(64);
    expect((await readError(key, 'objectCorrupted', { ...record, plaintextSha256: wrongSha })).message).toBe(
      `object ${key} fails its content checksum: sha256 ${record.plaintextSha256}, its record says ${wrongSha}`,
    );
    expect((await readError(key, 'objectCorrupted', { plaintextSizeBytes: 5 })).message).toMatch(/decodes to \d+ bytes, its record says 5/);
    expect((await readError(key, 'objectTruncated', { storedSizeBytes: record.storedSizeBytes + 1 })).message).toContain('is truncated');
    expect((await readError(key, 'objectCorrupted', { storedSizeBytes: record.storedSizeBytes - 1 })).message).toContain('bytes stored, its record says');
  });

  it('an object of another backup -> objectCorrupted', async () => {
    const key = 'base/elsewhere';
    await write(key, content(1000));
    const error = await collect(readObject({ storage, key, session: createDecryptionSession(provider), expectedScope: { backupId: 'another' } }))
      .catch((e: unknown) => e);
    expect(isLifeboatError(error, 'objectCorrupted')).toBe(true);
    expect((error as Error).message).toBe(`object ${key} belongs elsewhere: its encryption context has lifeboat:backup=${scope.backupId}, expected another`);
  });

  it('a missing object -> objectNotFound', async () => {
    await readError('base/none', 'objectNotFound');
  });

  it('createOnly over an existing object -> objectExists, the original intact', async () => {
    const key = 'base/once';
    const record = await write(key, content(1000));
    const error = await write(key, content(2000)).catch((e: unknown) => e);
    expect(isLifeboatError(error, 'objectExists')).toBe(true);
    expect(sha256(await readFile(join(root, key)))).toBe(record.storedSha256);
  });

  it('a failing source -> its own error, and nothing stored', async () => {
    const failure = new Error('tar stream broke');
    const broken = Readable.from((async function* () {
      yield content(5 * MIB);
      throw failure;
    })());
    const session = createEncryptionSession(provider, { scope });
    const error = await writeObject({ storage, key: 'base/broken', source: broken, compression: { algorithm: 'zstd' }, session }).catch((e: unknown) => e);
    expect(error).toBe(failure);
    expect(await storage.head('base/broken')).toBeUndefined();
  });

  it('a put that fails before reading its body -> its error, without hanging', async () => {
    const unavailable = new LifeboatError('storageUnavailable', 'the bucket refused the upload');
    // Fault injection: the repository rejects the write without consuming the stream.
    const failing: Storage = { ...storage, put: () => Promise.reject(unavailable) };
    const session = createEncryptionSession(provider, { scope });
    const error = await writeObject({ storage: failing, key: 'base/refused', source: source(content(40 * MIB)), compression: { algorithm: 'zstd' }, session })
      .catch((e: unknown) => e);
    expect(error).toBe(unavailable);
  });

  it('abort while writing -> aborted, and nothing stored', async () => {
    const controller = new AbortController();
    const slow = Readable.from((async function* () {
      for (let i = 0; i < 100; i++) {
        if (i === 3) controller.abort();
        yield content(MIB);
        await sleep(5);
      }
    })());
    const session = createEncryptionSession(provider, { scope });
    const error = await writeObject({ storage, key: 'base/aborted', source: slow, compression: { algorithm: 'zstd' }, session, signal: controller.signal })
      .catch((e: unknown) => e);
    expect(isLifeboatError(error, 'aborted')).toBe(true);
    expect((error as Error).message).toBe('writing object base/aborted was aborted');
    expect(await storage.head('base/aborted')).toBeUndefined();
  });

  it('abort while reading -> aborted', async () => {
    const key = 'base/read-abort';
    await write(key, content(9 * MIB));
    const controller = new AbortController();
    const reading = readObject({ storage, key, session: createDecryptionSession(provider), signal: controller.signal });
    const error = await (async () => {
      for await (const _chunk of reading) controller.abort();
    })().catch((e: unknown) => e);
    expect(isLifeboatError(error, 'aborted')).toBe(true);
    expect((error as Error).message).toContain(key);
  });

  it('a reader that stops early releases everything', async () => {
    configureZstdPool({ lingerMs: 20 });
    try {
      const key = 'base/early';
      await write(key, content(20 * MIB));
      const reading = readObject({ storage, key, session: createDecryptionSession(provider) });
      for await (const _chunk of reading) break;
      expect(reading.destroyed).toBe(true);
      await sleep(300);
      expect(zstdThreadCount()).toBe(0);
    } finally {
      configureZstdPool({ lingerMs: 2000 });
    }
  });
});
