// The zstd worker pool under pressure: bounded memory when the reader is slow, abort and worker crashes turning
// into stream errors, concurrent streams sharing the pool, and no thread left once streams are done.
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { configureZstdPool, createCompressStream, createDecompressStream, shutdownZstdPool, zstdThreadCount } from '../../src/compress/index.js';
import { currentZstdPool } from '../../src/compress/zstd-worker-pool.js';
import { isLifeboatError } from '../../src/errors/index.js';
import { crashZstdWorkersUntilSettled } from '../harness/crash-zstd-workers.js';
import { collect, countingSource } from '../harness/streams.js';

const MIB = 1024 * 1024;

afterEach(() => configureZstdPool({ lingerMs: 2000 }));
afterAll(async () => {
  await shutdownZstdPool();
});

describe('zstd worker pool', () => {
  it('keeps memory bounded while the reader does not read', async () => {
    const pulled = { bytes: 0 };
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let received = 0;
    const slowSink = new Writable({
      highWaterMark: MIB,
      write(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        released.then(() => callback(), callback);
      },
    });
    const done = pipeline(countingSource(256 * MIB, pulled), createCompressStream({ algorithm: 'zstd' }), slowSink);
    await sleep(1500);
    // Blocks in flight (2 per thread), the block being filled, and the stream buffers: far below 256 MiB.
    expect(pulled.bytes).toBeLessThanOrEqual(48 * MIB);
    release();
    await done;
    expect(pulled.bytes).toBe(256 * MIB);
    expect(received).toBeGreaterThan(256 * MIB);
  });

  it('stops on abort with an AbortError', async () => {
    const controller = new AbortController();
    const pulled = { bytes: 0 };
    const source = countingSource(512 * MIB, pulled);
    source.once('data', () => controller.abort());
    const error = await pipeline(source, createCompressStream({ algorithm: 'zstd', signal: controller.signal }), new Writable({
      write: (_chunk, _encoding, callback) => callback(),
    })).catch((e: unknown) => e);
    expect((error as Error).name).toBe('AbortError');
    expect(pulled.bytes).toBeLessThan(512 * MIB);
  });

  it('turns a worker crash into a stream error, and the next stream works again', async () => {
    const pulled = { bytes: 0 };
    const compress = createCompressStream({ algorithm: 'zstd', description: 'object crash/me' });
    const running = pipeline(countingSource(256 * MIB, pulled), compress, new Writable({ write: (_chunk, _encoding, callback) => callback() }))
      .catch((e: unknown) => e);
    while (pulled.bytes < 8 * MIB) await sleep(5);
    const error = await crashZstdWorkersUntilSettled(running);
    expect(error).toBeInstanceOf(Error);
    expect(isLifeboatError(error, 'internal')).toBe(true);
    expect((error as Error).message).toMatch(/zstd compression of object crash\/me failed: zstd worker thread stopped unexpectedly/);

    const data = randomBytes(5 * MIB);
    const compressed = await collect(Readable.from([data]).pipe(createCompressStream({ algorithm: 'zstd' })));
    expect((await collect(Readable.from([compressed]).pipe(createDecompressStream({ algorithm: 'zstd' })))).equals(data)).toBe(true);
  });

  it('serves concurrent streams correctly from one pool', async () => {
    const inputs = [1, 2, 3, 4].map((n) => Buffer.concat([randomBytes(n * MIB), Buffer.alloc(3 * MIB, n)]));
    const outputs = await Promise.all(inputs.map(async (input) => {
      const compressed = await collect(Readable.from([input]).pipe(createCompressStream({ algorithm: 'zstd' })));
      return collect(Readable.from([compressed]).pipe(createDecompressStream({ algorithm: 'zstd' })));
    }));
    outputs.forEach((output, index) => expect(output.equals(inputs[index] as Buffer)).toBe(true));
    expect(zstdThreadCount()).toBeLessThanOrEqual(currentZstdPool()?.maxWorkers ?? 0);
  });

  it('leaves no thread running once streams are done', async () => {
    configureZstdPool({ lingerMs: 20 });
    await collect(Readable.from([randomBytes(6 * MIB)]).pipe(createCompressStream({ algorithm: 'zstd' })));
    const decompress = createDecompressStream({ algorithm: 'zstd' });
    decompress.destroy();
    await sleep(500);
    expect(zstdThreadCount()).toBe(0);
    expect(currentZstdPool()).toBeUndefined();
  });
});

describe('zstd pool run inline (the daemon archiver)', () => {
  afterEach(async () => {
    await shutdownZstdPool();
    configureZstdPool({ inline: false });
  });

  it('compresses, hashes and decodes on the calling thread with no worker thread, byte for byte', async () => {
    await shutdownZstdPool();
    configureZstdPool({ inline: true });
    const threads = (): number => readdirSync('/proc/self/task').length;
    const before = threads();
    const data = Buffer.concat([randomBytes(3 * MIB), Buffer.alloc(5 * MIB, 7)]);
    const compressed = await collect(Readable.from([data]).pipe(createCompressStream({ algorithm: 'zstd' })));
    expect(compressed.length).toBeLessThan(data.length);
    const decoded = await collect(Readable.from([compressed]).pipe(createDecompressStream({ algorithm: 'zstd' })));
    expect(decoded.equals(data)).toBe(true);
    // The pool's one "worker" is this thread: no thread was started (a worker would be one more OS thread).
    expect(threads()).toBeLessThanOrEqual(before);
  });

  it('fails a corrupt stream with a clear error, as the worker does', async () => {
    await shutdownZstdPool();
    configureZstdPool({ inline: true });
    const garbage = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), randomBytes(64 * 1024)]);
    await expect(collect(Readable.from([garbage]).pipe(createDecompressStream({ algorithm: 'zstd' })))).rejects.toThrow();
  });
});
