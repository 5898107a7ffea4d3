// The zstd stream that also hashes its content on the worker pool (what writeObject uses): the digest is
// exactly the SHA-256 of what was written, for any size and chunking, with many streams at once; memory stays
// bounded while the reader stalls; a dead worker thread fails the stream instead of yielding a wrong digest.
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { createDecompressStream, createHashingCompressStream, shutdownZstdPool } from '../../src/compress/index.js';
import { isLifeboatError } from '../../src/errors/index.js';
import { crashZstdWorkersUntilSettled } from '../harness/crash-zstd-workers.js';
import { chunked, collect, countingSource } from '../harness/streams.js';

const MIB = 1024 * 1024;

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hashingZstd(description?: string): NonNullable<ReturnType<typeof createHashingCompressStream>> {
  const hashing = createHashingCompressStream({ algorithm: 'zstd', description });
  if (hashing === undefined) throw new Error('zstd must hash its content');
  return hashing;
}

afterAll(async () => {
  await shutdownZstdPool();
});

describe('zstd compress stream with content hashing', () => {
  for (const sizeBytes of [0, 1, 4 * MIB - 1, 4 * MIB, 4 * MIB + 1, 13 * MIB + 7]) {
    it(`hashes ${sizeBytes} bytes exactly, and the output still decodes to them`, async () => {
      const data = Buffer.concat([randomBytes(Math.floor(sizeBytes / 2)), Buffer.alloc(sizeBytes - Math.floor(sizeBytes / 2), 7)]);
      const hashing = hashingZstd();
      const compressed = await collect(chunked(data, 65_537).pipe(hashing.stream));
      expect(hashing.contentDigest()).toEqual({ sha256: sha256(data), sizeBytes });
      expect((await collect(Readable.from([compressed]).pipe(createDecompressStream({ algorithm: 'zstd' })))).equals(data)).toBe(true);
    });
  }

  it('keeps every digest right with more streams than worker threads', async () => {
    const inputs = Array.from({ length: 7 }, (_, n) => Buffer.concat([randomBytes((n + 1) * MIB), Buffer.alloc(5 * MIB + n, n)]));
    const digests = await Promise.all(inputs.map(async (input, n) => {
      const hashing = hashingZstd();
      await collect(chunked(input, 100_000 + n).pipe(hashing.stream));
      return hashing.contentDigest();
    }));
    digests.forEach((digest, n) => expect(digest).toEqual({ sha256: sha256(inputs[n] as Buffer), sizeBytes: (inputs[n] as Buffer).length }));
  });

  it('refuses to give a digest before the stream has ended', () => {
    const hashing = hashingZstd();
    expect(() => hashing.contentDigest()).toThrow(/not known before the stream ends/);
    hashing.stream.destroy();
  });

  it('keeps memory bounded while the reader does not read', async () => {
    const pulled = { bytes: 0 };
    const source = countingSource(256 * MIB, pulled);
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const hashing = hashingZstd();
    const done = pipeline(source, hashing.stream, new Writable({
      highWaterMark: MIB,
      write: (_chunk, _encoding, callback) => void released.then(() => callback(), callback),
    }));
    await sleep(1500);
    expect(pulled.bytes).toBeLessThanOrEqual(48 * MIB);
    release();
    await done;
    expect(hashing.contentDigest().sizeBytes).toBe(256 * MIB);
  });

  it('fails the stream, never yielding a digest, when a thread dies mid-stream', async () => {
    const pulled = { bytes: 0 };
    const source = countingSource(512 * MIB, pulled);
    const hashing = hashingZstd('object hash/me');
    const running = pipeline(source, hashing.stream, new Writable({ write: (_chunk, _encoding, callback) => callback() })).then(
      () => undefined,
      (error: unknown) => error,
    );
    while (pulled.bytes < 8 * MIB) await sleep(5);
    const error = await crashZstdWorkersUntilSettled(running);
    expect(isLifeboatError(error, 'internal')).toBe(true);
    expect((error as Error).message).toMatch(/object hash\/me/);
    expect(() => hashing.contentDigest()).toThrow();
  });
});
