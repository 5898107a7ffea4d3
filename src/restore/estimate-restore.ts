// How long a restore takes until the server is promoted, from rates measured on real restores, so that
// `--dry-run` can say "estimate 5-10 s" and mean it. Every constant of the model lives here, with where and how
// it was measured; re-measure when the pipeline or the reference machine changes.
import type { RestorePlan } from './plan-restore.js';

/**
 * Measured on the reference machine (2 vCPUs shared with other work, load average 2-3, PostgreSQL 15, Node 24,
 * fs repository, local key, zstd), from the phases `restore --start` reports:
 * - `npm run bench -- restore` (README): pgbench scale 100, 1.59 GB restored in 5.1 s; 66 segments of
 *   `pgbench -c 4` WAL fetched, replayed and promoted in 36.1 s;
 * - tests/integration/restore-pitr.test.ts: 56 MB restored and 2-3 segments replayed, 5.5-7.2 s in all
 *   (base 0.5-1.5 s, start + replay + promote 3.3-5.7 s).
 * - Since restore_command serves prefetched segments with a shell `mv` (restore-command.ts) instead of a Node start
 *   each: pgbench scale 20 (337 MB) and 21 segments of `pgbench -c 4` WAL, `restore --latest --start` 4.0-5.3 s in
 *   all on an idle host (was 8.4-10.4 s), PostgreSQL's redo 1.6-1.9 s for the 21 segments (was 4.7-6.2 s).
 */
export const RESTORE_RATES = {
  /** Base backup bytes (the tar size: downloaded, verified, decrypted, decompressed, extracted) per second. */
  restoredBytesPerSecond: 300e6,
  /** Each WAL segment during replay: its prefetch keeping ahead, one `mv`, and PostgreSQL replaying it. */
  secondsPerSegment: 0.1,
  /** Whatever the size: plan, tar processes, pg_ctl start, recovery start-up, end-of-recovery checkpoint, promotion. */
  startSeconds: 4.5,
  /** The range shown around the model: the measured runs fell within 0.85-1.25 of it; load widens that. */
  lowFactor: 0.75,
  highFactor: 1.6,
} as const;

/** Seconds until promotion: a point estimate and the range to show. */
export interface RestoreEstimate {
  seconds: number;
  lowSeconds: number;
  highSeconds: number;
}

export function estimateRestore(plan: Pick<RestorePlan, 'backup' | 'wal'>): RestoreEstimate {
  const seconds = RESTORE_RATES.startSeconds + plan.backup.tarSizeBytes / RESTORE_RATES.restoredBytesPerSecond + plan.wal.length * RESTORE_RATES.secondsPerSegment;
  return { seconds, lowSeconds: seconds * RESTORE_RATES.lowFactor, highSeconds: seconds * RESTORE_RATES.highFactor };
}

/** "5-10 s", "2-4 min", "1.5-3.2 h": the range in whole units a DBA plans with. */
export function formatEstimate(estimate: RestoreEstimate): string {
  const { lowSeconds: low, highSeconds: high } = estimate;
  if (high < 120) return `${Math.max(1, Math.floor(low))}-${Math.max(2, Math.ceil(high))} s`;
  if (high < 2 * 3600) return `${Math.max(1, Math.floor(low / 60))}-${Math.ceil(high / 60)} min`;
  const hours = (value: number): string => (value < 10 ? value.toFixed(1) : String(Math.round(value)));
  return `${hours(low / 3600)}-${hours(high / 3600)} h`;
}
