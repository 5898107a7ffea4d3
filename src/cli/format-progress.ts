// Pure formatting of transfer progress: sizes (decimal units, as README's MB = 10^6 bytes), rates, ETAs, a text
// bar, and the one-line views the progress reporter draws or logs.

/** A phase's progress at one moment. */
export interface ProgressSnapshot {
  /** "restore base", "backup", ... */
  label: string;
  doneBytes: number;
  /** Undefined when the total is not known. */
  totalBytes: number | undefined;
  /** Undefined until a rate can be measured. */
  bytesPerSecond: number | undefined;
  elapsedMs: number;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1e3) return `${Math.round(bytes)} B`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)} kB`;
  if (bytes < 1e9) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes < 1e12) return `${(bytes / 1e9).toFixed(2)} GB`;
  return `${(bytes / 1e12).toFixed(2)} TB`;
}

export function formatRate(bytesPerSecond: number | undefined): string {
  return bytesPerSecond === undefined ? '-- MB/s' : `${formatBytes(bytesPerSecond)}/s`;
}

/** Seconds as "42 s", "4 min 05 s" or "2 h 07 min". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** Seconds left at the current rate, or undefined when the total or the rate is unknown, or the total passed. */
export function estimateSecondsLeft(doneBytes: number, totalBytes: number | undefined, bytesPerSecond: number | undefined): number | undefined {
  if (totalBytes === undefined || bytesPerSecond === undefined || bytesPerSecond <= 0 || doneBytes > totalBytes) return undefined;
  return (totalBytes - doneBytes) / bytesPerSecond;
}

/** `[=========>          ]` for `fraction` (clamped to 0..1) of `width` characters inside the brackets. */
export function formatBar(fraction: number, width = 24): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const filled = Math.floor(f * width);
  const body = filled >= width ? '='.repeat(width) : `${'='.repeat(filled)}>${' '.repeat(width - filled - 1)}`;
  return `[${body}]`;
}

/**
 * One line of progress: "restore base [=====>   ]  45%  1.21 GB of 2.70 GB  85.3 MB/s  ETA 18 s" with the bar
 * (terminal), or "restore base: 1.21 GB of 2.70 GB (45%), 85.3 MB/s, ETA 18 s" without it (log lines).
 */
export function formatProgressLine(snapshot: ProgressSnapshot, options: { bar: boolean }): string {
  const { doneBytes, totalBytes, bytesPerSecond } = snapshot;
  const known = totalBytes !== undefined && totalBytes > 0;
  const fraction = known ? doneBytes / totalBytes : 0;
  const percent = known ? `${Math.min(100, Math.floor(fraction * 100))}%` : undefined;
  const size = known ? `${formatBytes(doneBytes)} of ${formatBytes(totalBytes)}` : formatBytes(doneBytes);
  const eta = estimateSecondsLeft(doneBytes, totalBytes, bytesPerSecond);
  const etaText = known ? `ETA ${eta === undefined ? '--' : formatDuration(eta)}` : undefined;
  if (options.bar) {
    return [snapshot.label, ...(known ? [formatBar(fraction), percent!.padStart(4)] : []), size, formatRate(bytesPerSecond), ...(etaText ? [etaText] : [])].join('  ');
  }
  return `${snapshot.label}: ${size}${percent ? ` (${percent})` : ''}, ${formatRate(bytesPerSecond)}${etaText ? `, ${etaText}` : ''}`;
}

/** A finished phase: "restore base: 2.70 GB in 31 s (86.5 MB/s)"; the rate only when it could be measured. */
export function formatProgressSummary(snapshot: ProgressSnapshot, averageBytesPerSecond: number | undefined): string {
  const rate = averageBytesPerSecond === undefined ? '' : ` (${formatRate(averageBytesPerSecond)})`;
  const seconds = snapshot.elapsedMs / 1000;
  return `${snapshot.label}: ${formatBytes(snapshot.doneBytes)} in ${seconds < 10 ? seconds.toFixed(1) + ' s' : formatDuration(seconds)}${rate}`;
}
