// Case 1, the object pipeline: writeObject (sha256 -> zstd/gzip -> encrypt -> sha256 -> storage) and readObject
// over two 1 GiB files, to the fs driver and to S3 (moto, multipart, KMS), against the raw `zstd` and `gzip` CLIs
// on the same files, interleaved run by run so that drift on the host hits both alike.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_ZSTD_BLOCK_BYTES } from '../../src/compress/index.js';
import type { BenchContext } from '../bench-context.js';
import { prepareDatasets, type Dataset } from '../data/prepare-datasets.js';
import { startBenchMoto, type BenchMoto } from '../data/start-bench-moto.js';
import { describeChildBaseline, runInChild } from '../measure/run-in-child.js';
import { runTimedCommand, shellQuote } from '../measure/run-timed-command.js';
import { median, summarizeRuns, throughputRatio, type RunSummary } from '../measure/summarize-runs.js';
import { fmt, fmtMB, type CaseResult } from '../report/case-report.js';
import type { CpuFloorResult } from '../tasks/cpu-floor-task.js';
import type { BenchKeys, BenchTarget } from '../tasks/open-bench-target.js';

/** The pipeline's zstd frame size in MiB, for the report. */
const BLOCK_MIB = DEFAULT_ZSTD_BLOCK_BYTES / (1024 * 1024);

/** One run of one contender. */
interface Sample {
  wallSeconds: number;
  cpuSeconds: number;
  peakRssBytes: number;
}

/** All runs of one contender in one direction, and what it is compared with. */
interface Contender {
  label: string;
  command: string;
  samples: Sample[];
  summary: RunSummary;
  /** Label of the raw CLI contender this one is compared with. */
  baseline?: string;
  storedBytes?: number;
}

interface Where {
  target: BenchTarget;
  keys: BenchKeys;
  label: string;
}

interface DatasetResult {
  dataset: Dataset;
  contenders: Contender[];
  /** CPU seconds of the pipeline's compression, hashing and encryption alone, one thread each (see cpu-floor-task.ts). */
  floor: CpuFloorResult;
}

type Compression = { algorithm: 'zstd' | 'gzip'; level: number };

/** Runs a CLI baseline; those ending in `| wc -c` also report their output size. */
async function timeCommand(command: string): Promise<Sample & { outputBytes?: number }> {
  const { wallSeconds, cpuSeconds, peakRssBytes, stdout } = await runTimedCommand(command);
  return { wallSeconds, cpuSeconds, peakRssBytes, ...(command.endsWith('| wc -c') ? { outputBytes: Number(stdout.trim()) } : {}) };
}

/** writeObject of the file, then readObject of it (verified, then deleted), each in a fresh child. */
async function roundTrip(dataset: Dataset, where: Where, compression: Compression, key: string): Promise<{ write: Sample; read: Sample; storedBytes: number }> {
  // The file is read with fileSource (straight into the compressor's blocks), as the archiver reads WAL segments.
  const written = await runInChild('pipeline-write', { file: dataset.file, target: where.target, keys: where.keys, compression, key });
  const readBack = await runInChild('pipeline-read', { target: where.target, keys: where.keys, stored: written.result.stored, deleteAfter: true });
  if (readBack.result.plaintextBytes !== dataset.sizeBytes) throw new Error(`readObject returned ${readBack.result.plaintextBytes} bytes of ${dataset.sizeBytes}`);
  return {
    write: { wallSeconds: written.result.seconds, cpuSeconds: written.cpuSeconds, peakRssBytes: written.peakRssBytes },
    read: { wallSeconds: readBack.result.seconds, cpuSeconds: readBack.cpuSeconds, peakRssBytes: readBack.peakRssBytes },
    storedBytes: written.result.stored.storedSizeBytes,
  };
}

/** Collects runs per contender label, in first-seen order. */
class ContenderSet {
  readonly #contenders = new Map<string, Contender>();
  constructor(private readonly sizeBytes: number) {}

  add(label: string, command: string, sample: Sample, extra: { baseline?: string; storedBytes?: number } = {}): void {
    const existing = this.#contenders.get(label);
    const samples = [...(existing?.samples ?? []), sample];
    const summary = summarizeRuns(this.sizeBytes, samples.map((one) => one.wallSeconds));
    this.#contenders.set(label, { label, command, samples, summary, ...extra });
  }

  list(): Contender[] {
    return [...this.#contenders.values()];
  }
}

async function benchDataset(ctx: BenchContext, dataset: Dataset, moto: BenchMoto, runs: { full: number; s3: number }): Promise<DatasetResult> {
  const file = shellQuote(dataset.file);
  const zst = join(ctx.workDir, 'baseline.zst');
  const repo = join(ctx.workDir, 'repo');
  const fs: Where = { target: { driver: 'fs', path: repo }, keys: { provider: 'local', path: join(ctx.workDir, 'local.key') }, label: 'fs' };
  const s3: Where = { target: moto.target, keys: moto.keys, label: 'S3 (moto)' };
  const zstd3: Compression = { algorithm: 'zstd', level: 3 };
  const gzip6: Compression = { algorithm: 'gzip', level: 6 };
  const set = new ContenderSet(dataset.sizeBytes);
  const log = (message: string): void => ctx.log(`pipeline: ${dataset.name}: ${message}`);
  // Untimed: the input in the page cache, and a .zst file for the decompression baseline.
  await runTimedCommand(`cat ${file} > /dev/null; mkdir -p ${shellQuote(repo)}; zstd -3 -T0 -q -f ${file} -o ${shellQuote(zst)}`);

  const zstdCli = { label: 'zstd -3 -T0 (CLI)', command: `zstd -3 -T0 -c ${file} | wc -c` };
  const unzstdCli = { label: 'zstd -d (CLI)', command: `zstd -d -c ${shellQuote(zst)} > /dev/null` };
  const gzipCli = { label: 'gzip -6 (CLI)', command: `gzip -6 -c ${file} | wc -c` };
  const pipelineSetup = (where: Where, compression: Compression): string =>
    `file in ${BLOCK_MIB} MiB reads -> sha256 -> ${compression.algorithm} -${compression.level} -> AES-256-GCM (ESDK) -> sha256 -> ${where.label}`;
  const addRoundTrip = async (where: Where, compression: Compression, run: number): Promise<void> => {
    log(`writeObject/readObject ${compression.algorithm} -> ${where.label}, run ${run}`);
    const trip = await roundTrip(dataset, where, compression, `bench/${compression.algorithm}-${run}`);
    const name = `${compression.algorithm} -${compression.level}`;
    const cli = compression.algorithm === 'zstd' ? [zstdCli.label, unzstdCli.label] : [gzipCli.label, undefined];
    set.add(`writeObject -> ${where.label} (${name})`, pipelineSetup(where, compression), trip.write, { baseline: cli[0], storedBytes: trip.storedBytes });
    set.add(`readObject <- ${where.label} (${name})`, 'readObject (size and both checksums verified) -> discarding sink', trip.read, cli[1] ? { baseline: cli[1] } : {});
  };

  // zstd: the CLI and the pipeline alternate run by run.
  for (let run = 1; run <= runs.full; run++) {
    log(`zstd CLI, run ${run}`);
    const compressed = await timeCommand(zstdCli.command);
    set.add(zstdCli.label, zstdCli.command, compressed, { storedBytes: compressed.outputBytes! });
    set.add(unzstdCli.label, unzstdCli.command, await timeCommand(unzstdCli.command));
    await addRoundTrip(fs, zstd3, run);
  }
  log('CPU floor: zstd and SHA-256 on one thread each, in-process');
  const floor = (await runInChild('cpu-floor', { file: dataset.file, level: 3, frameBytes: DEFAULT_ZSTD_BLOCK_BYTES })).result;
  for (let run = 1; run <= runs.s3; run++) await addRoundTrip(s3, zstd3, run);
  // gzip 6: one run each; single-threaded and slow, here for comparison only.
  log('gzip CLI');
  const gzipped = await timeCommand(gzipCli.command);
  set.add(gzipCli.label, gzipCli.command, gzipped, { storedBytes: gzipped.outputBytes! });
  await addRoundTrip(fs, gzip6, 1);
  return { dataset, contenders: set.list(), floor };
}

function tableRows(result: DatasetResult): string[][] {
  const byLabel = new Map(result.contenders.map((one) => [one.label, one]));
  const order = (label: string): number => (label.startsWith('readObject') || label.includes('-d ') ? 1 : 0);
  return [...result.contenders]
    .sort((a, b) => order(a.label) - order(b.label))
    .map((row) => {
      const baseline = row.baseline === undefined ? undefined : byLabel.get(row.baseline);
      return [
        result.dataset.name,
        row.label,
        fmt(row.summary.medianMBps),
        fmt(row.summary.bestMBps),
        baseline ? `${throughputRatio(row.summary, baseline.summary).toFixed(2)}x` : '-',
        row.storedBytes ? `${(result.dataset.sizeBytes / row.storedBytes).toFixed(2)}x` : '-',
        fmt(median(row.samples.map((one) => one.cpuSeconds)), 1),
        fmtMB(Math.max(...row.samples.map((one) => one.peakRssBytes))),
        String(row.samples.length),
      ];
    });
}

export async function runPipelineCase(ctx: BenchContext): Promise<CaseResult> {
  const sizeBytes = (ctx.quick ? 128 : 1024) * 1024 * 1024;
  const runs = ctx.quick ? { full: 2, s3: 1 } : { full: 5, s3: 3 };
  const datasets = await prepareDatasets(ctx, sizeBytes, ctx.quick ? 10 : 70);
  const moto = await startBenchMoto();
  const results: DatasetResult[] = [];
  try {
    for (const dataset of datasets) results.push(await benchDataset(ctx, dataset, moto, runs));
  } finally {
    await moto.stop();
  }

  const baselines = [await describeChildBaseline('pipeline-write'), await describeChildBaseline('pipeline-read')];
  const notes: string[] = [];
  for (const { dataset, contenders, floor } of results) {
    const find = (prefix: string): Contender[] => contenders.filter((one) => one.label.startsWith(prefix));
    const [cli] = find('zstd -3');
    const [fsWrite] = find('writeObject -> fs (zstd');
    const ratio = throughputRatio(fsWrite!.summary, cli!.summary);
    notes.push(`${dataset.name}: writeObject -> fs at ${ratio.toFixed(2)}x the throughput of \`zstd -3 -T0\` alone (bar >= 1.0x): ${ratio >= 1 ? 'PASS' : 'FAIL'}`);
    // The best any pipeline could do here: it must compress as much as the CLI, hash every byte, and encrypt and
    // hash what it stores, so with every core busy its wall time is at least the sum of those CPU times / cores.
    const cliWall = median(cli!.samples.map((one) => one.wallSeconds));
    const cliCpu = median(cli!.samples.map((one) => one.cpuSeconds));
    const cores = availableParallelism();
    const floorCpu = floor.zstdCpuSeconds + floor.sha256CpuSeconds + floor.encryptCpuSeconds + floor.storedSha256CpuSeconds;
    const floorWall = floorCpu / cores;
    const pipelineCpu = median(fsWrite!.samples.map((one) => one.cpuSeconds));
    notes.push(
      `${dataset.name}: CPU floor of writeObject on ${cores} cores: zstd ${floor.zstdCpuSeconds.toFixed(2)} + SHA-256 of the content ${floor.sha256CpuSeconds.toFixed(2)} ` +
        `+ AES-256-GCM ${floor.encryptCpuSeconds.toFixed(2)} + SHA-256 of the stored bytes ${floor.storedSha256CpuSeconds.toFixed(2)} = ${floorCpu.toFixed(2)} CPU s ` +
        `(one thread each, same libraries) = ${floorWall.toFixed(2)} s wall with every core busy, vs ${cliWall.toFixed(2)} s for \`zstd -3 -T0\` ` +
        `(${cliCpu.toFixed(1)} CPU s; at most ${(cliWall / floorWall).toFixed(2)}x); writeObject used ${pipelineCpu.toFixed(1)} CPU s, so ${(pipelineCpu - floorCpu).toFixed(1)} CPU s ` +
        `went to copies, messaging, GC, I/O, thread contention and module loading`,
    );
    // The content's SHA-256 is one sequential stream: more cores speed up zstd, not it.
    notes.push(
      `${dataset.name}: the content's SHA-256 alone runs at ${fmt(dataset.sizeBytes / floor.sha256CpuSeconds / 1e6)} MB/s on one thread, ` +
        `a ceiling for writeObject on any number of cores (\`zstd -3 -T0\` ran at ${fmt(cli!.summary.medianMBps)} MB/s here on ${cores})`,
    );
    const s3Peak = Math.max(...[...find('writeObject -> S3'), ...find('readObject <- S3')].flatMap((one) => one.samples.map((sample) => sample.peakRssBytes)));
    notes.push(`${dataset.name}: S3 round trip peak RSS ${fmtMB(s3Peak)} MB (bar < 200 MB): ${s3Peak < 200e6 ? 'PASS' : 'FAIL'}`);
  }
  return {
    name: 'pipeline',
    title: `Object pipeline, ${sizeBytes / 1024 / 1024} MiB per file`,
    setup: [
      ...datasets.map((dataset) => `data "${dataset.name}": ${dataset.recipe}`),
      'raw baselines on the same page-cached file: `zstd -3 -T0 -c FILE | wc -c`, `zstd -d -c FILE.zst > /dev/null`, `gzip -6 -c FILE | wc -c` (wc counts the output size)',
      `pipeline: each writeObject and each readObject runs in a fresh node child process (peak RSS = its ru_maxrss; CPU s = all its threads; module loading not timed); writeObject reads the file with fileSource (${BLOCK_MIB} MiB reads straight into the compressor's blocks, as the archiver reads WAL segments)`,
      ...baselines,
      `S3: moto on 127.0.0.1, multipart (5 MiB parts, 4 in flight), data key from moto KMS; runs: zstd CLI and fs ${runs.full} (alternating), S3 ${runs.s3}, gzip 1`,
      `CPU floor: one child compresses the file with zstd-napi (${BLOCK_MIB} MiB frames, level 3), hashes it, and encrypts (AES-256-GCM, 1 MiB frames) and hashes the compressed bytes with node:crypto, timing the CPU of each alone`,
    ],
    tables: [
      {
        title: 'Pipeline throughput (MB/s of plaintext, MB = 10^6 bytes; vs CLI = throughput / the raw CLI\'s on the same file)',
        headers: ['data', 'contender', 'MB/s median', 'MB/s best', 'vs CLI', 'compression', 'CPU s', 'peak RSS MB', 'runs'],
        rows: results.flatMap(tableRows),
      },
    ],
    notes,
    data: results.map(({ dataset, contenders, floor }) => ({ dataset, contenders, floor })),
  };
}
