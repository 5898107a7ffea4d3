// A transfer rate measured over a sliding window of reports: (bytes at the newest report - bytes at the oldest
// kept) / the time between them, and nothing until that span reaches a second. A rate from one report, or from
// two a few milliseconds apart, says more about buffering than about throughput.
export interface RateWindow {
  /** Records `doneBytes` (cumulative) at `atMs`. */
  add(atMs: number, doneBytes: number): void;
  /** Bytes per second over the window, or undefined while the reports span less than `minSpanMs`. */
  bytesPerSecond(): number | undefined;
  /** Bytes per second from the first report to the last, or undefined while they span less than `minSpanMs`. */
  averageBytesPerSecond(): number | undefined;
}

export interface RateWindowOptions {
  /** Span the rate is measured over once there are enough reports; default 10 000 ms. */
  windowMs?: number;
  /** Shortest span a rate is computed from; default 1000 ms. */
  minSpanMs?: number;
  /** Reports closer together than this are merged, keeping memory small at any report rate; default 100 ms. */
  resolutionMs?: number;
}

interface Sample {
  atMs: number;
  bytes: number;
}

export function createRateWindow(options: RateWindowOptions = {}): RateWindow {
  const windowMs = options.windowMs ?? 10_000;
  const minSpanMs = options.minSpanMs ?? 1000;
  const resolutionMs = options.resolutionMs ?? 100;
  let first: Sample | undefined;
  const samples: Sample[] = [];

  const rate = (from: Sample | undefined, to: Sample | undefined): number | undefined => {
    if (!from || !to || to.atMs - from.atMs < minSpanMs) return undefined;
    return ((to.bytes - from.bytes) * 1000) / (to.atMs - from.atMs);
  };

  return {
    add(atMs, doneBytes) {
      const sample = { atMs, bytes: doneBytes };
      first ??= sample;
      const previous = samples.at(-2);
      // The newest sample moves forward until it is resolutionMs past the one before it.
      if (samples.length > 1 && previous !== undefined && atMs - previous.atMs < resolutionMs) samples[samples.length - 1] = sample;
      else samples.push(sample);
      // Keep one sample at or beyond the window's start as its anchor.
      while (samples.length > 2 && atMs - samples[1]!.atMs >= windowMs) samples.shift();
    },
    bytesPerSecond: () => rate(samples[0], samples.at(-1)),
    averageBytesPerSecond: () => rate(first, samples.at(-1)),
  };
}
