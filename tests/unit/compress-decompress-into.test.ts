// decompressZstdInto: zstd decoded on the worker pool straight into a sink, block by block, without copies. Round
// trips (many frames, highly compressible, the CLI's single streamed frame), the block not reused before the sink
// is done with it, the refusals (empty, truncated, not zstd, a failed content check), a failing sink, and decoders
// reused by the worker after a stream abandoned mid-frame.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { configureZstdPool, createCompressStream, decompressZstdInto, shutdownZstdPool, type ChunkSink } from '../../src/compress/index.js';
import { isLifeboatError, LifeboatError } from '../../src/errors/index.js';
import { chunked } from '../harness/streams.js';

const MIB = 1024 * 1024;

function sampleData(sizeBytes: number): Buffer {
  const data = Buffer.alloc(sizeBytes);
  for (let offset = 0; offset < sizeBytes; offset += 8192) {
    const chunk = offset % 16384 === 0 ? randomBytes(8192) : Buffer.from('lifeboat row '.repeat(700));
    chunk.copy(data, offset, 0, Math.min(8192, sizeBytes - offset));
  }
  return data;
}

async function compress(data: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await pipeline(chunked(data, 65_536), createCompressStream({ algorithm: 'zstd' }), new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  }));
  return Buffer.concat(chunks);
}

/** A sink that copies what it gets (the chunk itself is reused afterwards) and records the chunk sizes. */
function collectingSink(): { sink: ChunkSink; result: () => Buffer; sizes: number[] } {
  const parts: Buffer[] = [];
  const sizes: number[] = [];
  return {
    sink: async (chunk) => {
      parts.push(Buffer.from(chunk));
      sizes.push(chunk.length);
    },
    result: () => Buffer.concat(parts),
    sizes,
  };
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

afterAll(async () => {
  await shutdownZstdPool();
});

describe('decompressZstdInto', () => {
  it('decodes many frames, written in odd chunks, into the sink unchanged, at most one block per chunk', async () => {
    const data = sampleData(9 * MIB + 123);
    const collected = collectingSink();
    const sizeBytes = await decompressZstdInto(chunked(await compress(data), 77_777), collected.sink);
    expect(sizeBytes).toBe(data.length);
    expect(collected.result().equals(data)).toBe(true);
    expect(Math.max(...collected.sizes)).toBeLessThanOrEqual(MIB);
  });

  it('decodes highly compressible data and the zstd CLI\'s single streamed frame', async () => {
    const zeros = Buffer.alloc(30 * MIB, 7);
    const first = collectingSink();
    await decompressZstdInto(Readable.from([await compress(zeros)]), first.sink);
    expect(first.result().equals(zeros)).toBe(true);
    const data = sampleData(5 * MIB);
    const cliFrame = execFileSync('/usr/bin/zstd', ['-3', '-c', '-q', '--no-content-size'], { input: data, maxBuffer: 64 * MIB });
    const second = collectingSink();
    await decompressZstdInto(chunked(cliFrame, 100_000), second.sink);
    expect(second.result().equals(data)).toBe(true);
  });

  it('does not touch a block before the sink has finished with it', async () => {
    const data = sampleData(6 * MIB);
    const parts: Buffer[] = [];
    let changed = 0;
    await decompressZstdInto(Readable.from([await compress(data)]), async (chunk) => {
      const before = Buffer.from(chunk);
      // Slow sink: the worker decodes the next block meanwhile, into the other block.
      await sleep(5);
      if (!Buffer.from(chunk).equals(before)) changed++;
      parts.push(before);
    });
    expect(changed).toBe(0);
    expect(Buffer.concat(parts).equals(data)).toBe(true);
  });

  it('checks the content digest computed on the worker, and fails with what the check returns', async () => {
    const data = sampleData(2 * MIB);
    const compressed = await compress(data);
    const seen: { sha256: string; sizeBytes: number }[] = [];
    await decompressZstdInto(Readable.from([compressed]), collectingSink().sink, { verifyContent: (digest) => (seen.push(digest), undefined) });
    expect(seen).toEqual([{ sha256: sha256(data), sizeBytes: data.length }]);
    const failure = new LifeboatError('objectCorrupted', 'content checksum mismatch');
    await expect(decompressZstdInto(Readable.from([compressed]), collectingSink().sink, { verifyContent: () => failure })).rejects.toBe(failure);
  });

  it('refuses empty, truncated and non-zstd input as corrupted, naming what it decodes', async () => {
    const compressed = await compress(sampleData(2 * MIB));
    const cases = [Buffer.alloc(0), compressed.subarray(0, compressed.length - 100), Buffer.from('certainly not a zstd frame, just text')];
    for (const input of cases) {
      const error = await decompressZstdInto(Readable.from(input.length === 0 ? [] : [input]), collectingSink().sink, { description: 'object a/b' }).catch((e: unknown) => e);
      expect(isLifeboatError(error, 'objectCorrupted'), String(error)).toBe(true);
      expect((error as Error).message).toContain('object a/b');
    }
  });

  it('passes a failing sink\'s error through, and the pool keeps working', async () => {
    const data = sampleData(4 * MIB);
    const compressed = await compress(data);
    const failure = new Error('disk full');
    let calls = 0;
    const error = await decompressZstdInto(Readable.from([compressed]), async () => {
      if (++calls === 2) throw failure;
    }).catch((e: unknown) => e);
    expect(error).toBe(failure);
    const collected = collectingSink();
    await decompressZstdInto(Readable.from([compressed]), collected.sink);
    expect(collected.result().equals(data)).toBe(true);
  });

  it('decodes correctly on a worker whose decoder was reused after a stream abandoned mid-frame', async () => {
    await shutdownZstdPool();
    // One thread: every stream below gets the decoder the previous one left behind.
    configureZstdPool({ maxWorkers: 1 });
    try {
      const data = sampleData(3 * MIB);
      const compressed = await compress(data);
      for (let round = 0; round < 3; round++) {
        // Abandon a stream in the middle of a frame: the sink fails after the first block.
        await decompressZstdInto(Readable.from([compressed.subarray(0, Math.floor(compressed.length / 2))]), async () => {
          throw new Error('stop');
        }).catch(() => undefined);
        const collected = collectingSink();
        await decompressZstdInto(Readable.from([compressed]), collected.sink, { verifyContent: ({ sha256: digest }) => (digest === sha256(data) ? undefined : new Error('digest differs')) });
        expect(collected.result().equals(data)).toBe(true);
      }
    } finally {
      await shutdownZstdPool();
      configureZstdPool({ maxWorkers: 4 });
    }
  });
});
