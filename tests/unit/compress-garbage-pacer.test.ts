// The garbage pacer really collects: a young-generation collection runs once 32 MiB of buffers (or 128 small
// ones) were let go, and not before; decoding a large object triggers it without anyone calling it.
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { createCompressStream, createDecompressStream, shutdownZstdPool } from '../../src/compress/index.js';
import { noteReleasedBuffers, pacedCollections } from '../../src/compress/garbage-pacer.js';
import { collect } from '../harness/streams.js';

const MIB = 1024 * 1024;

/** Minor (scavenge) collections seen while `work` runs. */
async function minorCollectionsDuring(work: () => unknown): Promise<number> {
  let count = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if ((entry as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) count++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  try {
    await work();
    // GC entries are delivered asynchronously.
    await new Promise((resolve) => setTimeout(resolve, 50));
  } finally {
    observer.disconnect();
  }
  return count;
}

afterAll(async () => {
  await shutdownZstdPool();
});

describe('garbage pacer', () => {
  it('runs a young collection per 32 MiB of released buffers, and none below that', async () => {
    // Start from an empty tally.
    noteReleasedBuffers(32 * MIB);
    const before = pacedCollections();
    noteReleasedBuffers(31 * MIB);
    expect(pacedCollections()).toBe(before);
    noteReleasedBuffers(MIB);
    expect(pacedCollections()).toBe(before + 1);
    // And V8 really collected (other scavenges may happen too, never fewer).
    expect(await minorCollectionsDuring(() => {
      for (let i = 0; i < 4; i++) noteReleasedBuffers(32 * MIB);
    })).toBeGreaterThanOrEqual(4);
    expect(pacedCollections()).toBe(before + 5);
  });

  it('counts each buffer for at least 256 KiB: 128 small pipe chunks make a collection', () => {
    noteReleasedBuffers(32 * MIB);
    const before = pacedCollections();
    for (let i = 0; i < 127; i++) noteReleasedBuffers(64 * 1024);
    expect(pacedCollections()).toBe(before);
    noteReleasedBuffers(64 * 1024);
    expect(pacedCollections()).toBe(before + 1);
  });

  it('decoding 256 MiB collects along the way without being asked', async () => {
    const block = Buffer.alloc(MIB, 'lifeboat ');
    const compressed = await collect(Readable.from(Array.from({ length: 256 }, () => block)).pipe(createCompressStream({ algorithm: 'zstd' })));
    const before = pacedCollections();
    let bytes = 0;
    for await (const chunk of Readable.from([compressed]).pipe(createDecompressStream({ algorithm: 'zstd' }))) bytes += (chunk as Buffer).length;
    expect(bytes).toBe(256 * MIB);
    // 256 MiB decoded plus the compressed input let go: at least one collection per 32 MiB of it.
    expect(pacedCollections() - before).toBeGreaterThanOrEqual(256 / 32);
  });
});
