// Quick throughput check of the object pipeline (zstd level 3 + encryption + both checksums, in-memory source to
// an fs repository) against `zstd -3 -T0` on the same data, with peak RSS, plus readObject for restores. Runs
// alternate between the two so a noisy neighbour hurts both alike. Numbers depend on the host; this is no test.
// Run: npx tsc -p tsconfig.json --outDir var/build-all && node var/build-all/bench/pipeline-quick.js [MiB] [runs] [dir]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { shutdownZstdPool } from '../src/compress/index.js';
import { createDecryptionSession, createEncryptionSession, createLocalKeyProvider } from '../src/crypto/index.js';
import { readObject, writeObject } from '../src/pipeline/index.js';
import { createFsStorage } from '../src/storage/fs-storage.js';

const MIB = 1024 * 1024;

/** CSV-like rows of numbers, words and timestamps: compresses about 2.2x at zstd -3, like busy table data. */
function generateData(sizeBytes: number): Buffer {
  let state = 0x12345678;
  const next = (): number => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
  const words = Array.from({ length: 5000 }, () =>
    Array.from({ length: 3 + (next() % 9) }, () => String.fromCharCode(97 + (next() % 26))).join(''),
  );
  const data = Buffer.alloc(sizeBytes);
  for (let offset = 0, id = 1; offset < sizeBytes; id++) {
    const line = `${id},${next() % 1e6},${words[next() % 5000]} ${words[next() % 5000]} ${words[next() % 5000]},` +
      `2024-${1 + (next() % 12)}-${1 + (next() % 28)} ${next() % 24}:${next() % 60}:${next() % 60},${(next() % 1e5) / 100},${next().toString(16)}\n`;
    offset += data.write(line, offset);
  }
  return data;
}

/** Peak RSS while `work` runs, sampled every 20 ms. */
async function withPeakRss<T>(work: () => Promise<T>): Promise<{ value: T; peakRssBytes: number }> {
  let peakRssBytes = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peakRssBytes = Math.max(peakRssBytes, process.memoryUsage.rss());
  }, 20);
  try {
    return { value: await work(), peakRssBytes };
  } finally {
    clearInterval(timer);
  }
}

/** CPU time of waited-for children (user + system) in ms, from /proc: how much the CLI burned, all threads. */
function childrenCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

/** This process's CPU time (user + system, every thread: workers, GC, libuv) in ms. */
function ownCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

async function main(): Promise<void> {
  const sizeBytes = Number(process.argv[2] ?? 512) * MIB;
  const runs = Number(process.argv[3] ?? 3);
  const root = mkdtempSync(join(process.argv[4] ?? tmpdir(), 'lifeboat-bench-'));
  try {
    // 1. The same bytes for both contenders: in memory for the pipeline, a page-cached file for the CLI.
    const data = generateData(sizeBytes);
    const dataFile = join(root, 'data.bin');
    writeFileSync(dataFile, data);
    const repo = join(root, 'repo');
    execFileSync('mkdir', ['-p', repo]);
    const storage = createFsStorage({ path: repo });
    const provider = await createLocalKeyProvider({ path: join(root, 'key'), createIfMissing: true });
    const session = createEncryptionSession(provider, { scope: { cluster: 'bench', family: 'base', backupId: 'b1' } });
    const source = (): Readable => Readable.from((function* () {
      for (let offset = 0; offset < data.length; offset += MIB) yield data.subarray(offset, offset + MIB);
    })());

    // 2. Alternate the contenders; the first round warms caches, threads and the data key and is not counted.
    const cliMs: number[] = [];
    const pipelineMs: number[] = [];
    const readMs: number[] = [];
    const cliCpuMs: number[] = [];
    const pipelineCpuMs: number[] = [];
    let peakRssBytes = 0;
    let storedSizeBytes = 0;
    const baseRssBytes = process.memoryUsage.rss();
    for (let round = 0; round <= runs; round++) {
      let started = performance.now();
      const childCpu = childrenCpuMs();
      execFileSync('zstd', ['-3', '-T0', '-q', '-f', dataFile, '-o', join(root, 'cli.zst')]);
      const cli = performance.now() - started;
      const cliCpu = childrenCpuMs() - childCpu;
      started = performance.now();
      const ownCpu = ownCpuMs();
      const written = await withPeakRss(() => writeObject({ storage, key: `bench/${round}`, source: source(), compression: { algorithm: 'zstd', level: 3 }, session }));
      const piped = performance.now() - started;
      const pipedCpu = ownCpuMs() - ownCpu;
      started = performance.now();
      const decryption = createDecryptionSession(provider);
      await pipeline(readObject({ storage, key: `bench/${round}`, session: decryption, expected: written.value }), new Writable({ write: (_chunk, _encoding, callback) => callback() }));
      const read = performance.now() - started;
      if (round === 0) continue;
      cliMs.push(cli);
      pipelineMs.push(piped);
      cliCpuMs.push(cliCpu);
      pipelineCpuMs.push(pipedCpu);
      readMs.push(read);
      peakRssBytes = Math.max(peakRssBytes, written.peakRssBytes);
      storedSizeBytes = written.value.storedSizeBytes;
      await storage.delete([`bench/${round}`]);
    }

    // 3. Report medians and bests; throughput counts content bytes.
    const rate = (ms: number): string => `${((sizeBytes / MIB) / (ms / 1000)).toFixed(0)} MiB/s`;
    console.log(`data ${sizeBytes / MIB} MiB, stored ${(storedSizeBytes / MIB).toFixed(1)} MiB (ratio ${(sizeBytes / storedSizeBytes).toFixed(2)}), ${runs} runs`);
    console.log(`zstd -3 -T0 CLI      median ${median(cliMs).toFixed(0)} ms (${rate(median(cliMs))}), best ${rate(Math.min(...cliMs))}`);
    console.log(`writeObject pipeline median ${median(pipelineMs).toFixed(0)} ms (${rate(median(pipelineMs))}), best ${rate(Math.min(...pipelineMs))}`);
    console.log(`readObject (restore) median ${median(readMs).toFixed(0)} ms (${rate(median(readMs))})`);
    console.log(`pipeline / CLI throughput: median ${(median(cliMs) / median(pipelineMs)).toFixed(2)}x, best ${(Math.min(...cliMs) / Math.min(...pipelineMs)).toFixed(2)}x`);
    // CPU time is what bounds both on a small host, and unlike wall time it barely moves with noisy neighbours.
    console.log(`CPU: CLI median ${(median(cliCpuMs) / 1000).toFixed(2)} s, pipeline median ${(median(pipelineCpuMs) / 1000).toFixed(2)} s (all threads)`);
    console.log(`RSS: ${(baseRssBytes / MIB).toFixed(0)} MiB before (data buffer included), peak ${(peakRssBytes / MIB).toFixed(0)} MiB while writing`);
    session.close();
    provider.close();
  } finally {
    await shutdownZstdPool();
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
