// Round trips through every compression algorithm at the sizes that matter (empty, 1 byte, around the 4 MiB
// zstd block boundary, many blocks), written in odd chunk sizes; and zstd output read by the real `zstd` CLI.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createCompressStream,
  createDecompressStream,
  shutdownZstdPool,
  type CompressionAlgorithm,
} from '../../src/compress/index.js';
import { isLifeboatError } from '../../src/errors/index.js';
import { chunked, collect } from '../harness/streams.js';

const MIB = 1024 * 1024;

/** Half random, half repetitive: compressible, but not trivially. */
function sampleData(sizeBytes: number): Buffer {
  const data = Buffer.alloc(sizeBytes);
  for (let offset = 0; offset < sizeBytes; offset += 8192) {
    const chunk = offset % 16384 === 0 ? randomBytes(8192) : Buffer.from('lifeboat row '.repeat(700));
    chunk.copy(data, offset, 0, Math.min(8192, sizeBytes - offset));
  }
  return data;
}

async function compress(data: Buffer, algorithm: CompressionAlgorithm, chunkBytes = 65_536): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await pipeline(chunked(data, chunkBytes), createCompressStream({ algorithm }), new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  }));
  return Buffer.concat(chunks);
}

async function decompress(data: Buffer, algorithm: CompressionAlgorithm, chunkBytes = 65_536): Promise<Buffer> {
  return collect(chunked(data, chunkBytes).pipe(createDecompressStream({ algorithm })));
}

afterAll(async () => {
  await shutdownZstdPool();
});

describe('compression round trips', () => {
  const sizes = [0, 1, 4 * MIB - 1, 4 * MIB, 4 * MIB + 1, 9 * MIB + 123];
  for (const algorithm of ['zstd', 'gzip', 'none'] as const) {
    for (const sizeBytes of sizes) {
      it(`${algorithm} returns ${sizeBytes} bytes unchanged`, async () => {
        const data = sampleData(sizeBytes);
        const compressed = await compress(data, algorithm, 100_003);
        const restored = await decompress(compressed, algorithm, 77_777);
        expect(restored.length).toBe(sizeBytes);
        expect(restored.equals(data)).toBe(true);
        if (algorithm === 'none') expect(compressed.equals(data)).toBe(true);
        if (algorithm !== 'none' && sizeBytes > MIB) expect(compressed.length).toBeLessThan(sizeBytes * 0.8);
      });
    }
  }

  it('zstd accepts 1-byte writes and returns them unchanged', async () => {
    const data = sampleData(5000);
    const restored = await decompress(await compress(data, 'zstd', 1), 'zstd', 1);
    expect(restored.equals(data)).toBe(true);
  });

  it('gzip output is a plain gzip file', async () => {
    const data = sampleData(3 * MIB);
    expect(gunzipSync(await compress(data, 'gzip')).equals(data)).toBe(true);
  });
});

describe('zstd stream format', () => {
  it('writes several independent frames that the zstd CLI decodes', async () => {
    const data = sampleData(13 * MIB + 5);
    const compressed = await compress(data, 'zstd');
    // Each 4 MiB block is its own frame: the frame magic number appears once per block.
    const magic = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
    let frames = 0;
    for (let at = compressed.indexOf(magic); at !== -1; at = compressed.indexOf(magic, at + 1)) frames++;
    expect(frames).toBeGreaterThanOrEqual(4);
    const decoded = execFileSync('/usr/bin/zstd', ['-d', '-c', '-q'], { input: compressed, maxBuffer: 64 * MIB });
    expect(decoded.equals(data)).toBe(true);
  });

  it('writes an empty frame for empty input, which the zstd CLI decodes', async () => {
    const compressed = await compress(Buffer.alloc(0), 'zstd');
    expect(compressed.length).toBeGreaterThan(0);
    const decoded = spawnSync('/usr/bin/zstd', ['-d', '-c', '-q'], { input: compressed });
    expect(decoded.status).toBe(0);
    expect(decoded.stdout.length).toBe(0);
  });

  it('decodes a single large streamed frame written by the zstd CLI', async () => {
    const data = sampleData(11 * MIB);
    const cliFrame = execFileSync('/usr/bin/zstd', ['-3', '-c', '-q', '--no-content-size'], { input: data, maxBuffer: 64 * MIB });
    expect((await decompress(cliFrame, 'zstd')).equals(data)).toBe(true);
  });

  it('decodes highly compressible data in bounded replies', async () => {
    const data = Buffer.alloc(40 * MIB, 7);
    const compressed = await compress(data, 'zstd');
    expect(compressed.length).toBeLessThan(64 * 1024);
    const sizes: number[] = [];
    for await (const chunk of Readable.from([compressed]).pipe(createDecompressStream({ algorithm: 'zstd' }))) sizes.push((chunk as Buffer).length);
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(data.length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4 * MIB);
  });

  // The decoder keeps undecoded input in its own scratch memory between requests (the shared input block goes
  // back with each reply); these feed it input while earlier input is still undecoded, in small and in huge writes.
  it('decodes input that arrives while earlier input is still being decoded', async () => {
    const text = Buffer.from(Array.from({ length: 4000 }, (_, i) => `row ${i} lifeboat ${i % 97}\n`).join(''));
    const data = Buffer.alloc(24 * MIB);
    for (let offset = 0; offset < data.length; offset += text.length) text.copy(data, offset);
    const compressed = await compress(data, 'zstd');
    for (const chunkBytes of [333_333, 4_099]) expect((await decompress(compressed, 'zstd', chunkBytes)).equals(data)).toBe(true);
  });

  it('decodes huge writes that exceed the input batch many times over', async () => {
    const data = Buffer.concat([sampleData(12 * MIB), Buffer.alloc(12 * MIB, 3), sampleData(12 * MIB)]);
    const compressed = await compress(data, 'zstd');
    const half = Math.floor(compressed.length / 2);
    const restored = await collect(Readable.from([compressed.subarray(0, half), compressed.subarray(half)]).pipe(createDecompressStream({ algorithm: 'zstd' })));
    expect(restored.equals(data)).toBe(true);
  });

  it('refuses a truncated zstd stream as corrupted, naming what it decodes', async () => {
    const compressed = await compress(sampleData(2 * MIB), 'zstd');
    const cut = compressed.subarray(0, compressed.length - 100);
    const error = await collect(Readable.from([cut]).pipe(createDecompressStream({ algorithm: 'zstd', description: 'object a/b' }))).catch((e: unknown) => e);
    expect(isLifeboatError(error, 'objectCorrupted')).toBe(true);
    expect((error as Error).message).toContain('object a/b');
  });

  it('refuses bytes that are not zstd as corrupted', async () => {
    const error = await collect(Readable.from([Buffer.from('this is not zstd at all')]).pipe(createDecompressStream({ algorithm: 'zstd', description: 'object x' })))
      .catch((e: unknown) => e);
    expect(isLifeboatError(error, 'objectCorrupted')).toBe(true);
    expect((error as Error).message).toMatch(/object x is not valid zstd/);
  });

  it('refuses an empty input as not a zstd stream', async () => {
    const error = await collect(Readable.from([]).pipe(createDecompressStream({ algorithm: 'zstd' }))).catch((e: unknown) => e);
    expect(isLifeboatError(error, 'objectCorrupted')).toBe(true);
  });

  it('rejects a level out of range with a config error', () => {
    expect(() => createCompressStream({ algorithm: 'zstd', level: 40 })).toThrow(/zstd compression level 40 is out of range/);
    expect(() => createCompressStream({ algorithm: 'gzip', level: 0 })).toThrow(/gzip compression level 0/);
  });
});
