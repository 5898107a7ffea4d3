// Turns repeated timings into the figures the tables print: median and best wall time, throughput in MB/s
// (MB = 10^6 bytes, of the plaintext or database size given), and ratios between contenders.

/** Several runs of one contender over the same bytes. */
export interface RunSummary {
  bytes: number;
  wallSeconds: number[];
  medianSeconds: number;
  bestSeconds: number;
  /** Throughput at the median run, MB/s. */
  medianMBps: number;
  /** Throughput at the best run, MB/s. */
  bestMBps: number;
}

export const MB = 1e6;

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function summarizeRuns(bytes: number, wallSeconds: readonly number[]): RunSummary {
  const medianSeconds = median(wallSeconds);
  const bestSeconds = Math.min(...wallSeconds);
  return {
    bytes,
    wallSeconds: [...wallSeconds],
    medianSeconds,
    bestSeconds,
    medianMBps: bytes / MB / medianSeconds,
    bestMBps: bytes / MB / bestSeconds,
  };
}

/** Throughput of `contender` relative to `baseline` (> 1: the contender is faster), at the medians. */
export function throughputRatio(contender: RunSummary, baseline: RunSummary): number {
  return baseline.medianSeconds / contender.medianSeconds;
}
