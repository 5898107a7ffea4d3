// Durations as the drill reports print them: exact seconds for machines and CI messages (`312 s`, `4.21 s`), and
// a human reading for the Markdown and `drill history` (`5 min 12 s`, `2 h 05 min`).

/** Seconds with precision that fits their size: `0.042 s`, `4.21 s`, `42.3 s`, `312 s`. */
export function formatSeconds(seconds: number): string {
  const digits = seconds >= 100 ? 0 : seconds >= 10 ? 1 : seconds >= 1 ? 2 : 3;
  return `${Number(seconds.toFixed(digits))} s`;
}

/** A duration for people: seconds below a minute, then `5 min 12 s`, then `2 h 05 min`. */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return formatSeconds(seconds);
  const whole = Math.round(seconds);
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${whole % 60} s`;
  const minutes = Math.round(seconds / 60);
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}
