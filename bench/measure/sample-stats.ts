// Figures of a series of samples taken over time (RSS, archive lag): percentiles, and the least-squares slope that
// tells a process whose memory settles from one that keeps growing.

/** The `p`-th percentile (0-100) by nearest rank; NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** Least-squares slope of `value` over `atMs`, per hour; NaN with fewer than 3 points. */
export function slopePerHour(points: readonly { atMs: number; value: number }[]): number {
  if (points.length < 3) return Number.NaN;
  const n = points.length;
  const meanX = points.reduce((sum, p) => sum + p.atMs, 0) / n;
  const meanY = points.reduce((sum, p) => sum + p.value, 0) / n;
  let covariance = 0;
  let variance = 0;
  for (const p of points) {
    covariance += (p.atMs - meanX) * (p.value - meanY);
    variance += (p.atMs - meanX) ** 2;
  }
  return variance === 0 ? Number.NaN : (covariance / variance) * 3_600_000;
}
