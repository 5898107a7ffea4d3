// WAL archiving lag under load, measured the same way for any archiver: while `pgbench` writes, every 500 ms the
// server's WAL position against the end of the newest complete segment the archiver has stored; then how long it
// needs after the load to hold every complete segment written under it. Complete segments on both sides: that is
// what pgBackRest's archive_command ships (Lifeboat's partials would only flatter it).
import type { PostgresServer } from '../../tests/harness/postgres.js';
import { runPgbench } from '../data/bench-postgres.js';
import { median } from '../measure/summarize-runs.js';

export interface LagRun {
  loadSeconds: number;
  tps: number;
  walBytes: number;
  maxLagBytes: number;
  medianLagBytes: number;
  /** From the end of the load until every complete segment written under it was stored; null on timeout. */
  catchUpSeconds: number | null;
}

const SEGMENT_NAME = /^[0-9A-F]{24}$/;

/** End LSN of segment `name` (e.g. 000000010000000000000003), as a byte position. */
export function segmentEndLsn(name: string, segmentSizeBytes: number): bigint {
  const segmentsPerId = 0x1_0000_0000n / BigInt(segmentSizeBytes);
  const segno = BigInt(`0x${name.slice(8, 16)}`) * segmentsPerId + BigInt(`0x${name.slice(16, 24)}`);
  return (segno + 1n) * BigInt(segmentSizeBytes);
}

export async function currentLsn(pg: PostgresServer): Promise<bigint> {
  const [row] = await pg.query<{ lsn: string }>(`SELECT pg_current_wal_lsn() - '0/0' AS lsn`);
  return BigInt(row!.lsn);
}

/** The segment pgBackRest's archive_command stored last, from pg_stat_archiver (history and .backup files skipped). */
export async function lastArchivedBySegmentCommand(pg: PostgresServer): Promise<string | undefined> {
  const [row] = await pg.query<{ wal: string | null }>('SELECT last_archived_wal AS wal FROM pg_stat_archiver');
  return row?.wal && SEGMENT_NAME.test(row.wal) ? row.wal : undefined;
}

/** Waits until `archivedSegment()` covers every complete segment before `lsn`; resolves with whether it did in time. */
export async function waitArchived(archivedSegment: () => Promise<string | undefined>, lsn: bigint, segmentSizeBytes: number, timeoutMs: number): Promise<boolean> {
  const needed = (lsn / BigInt(segmentSizeBytes)) * BigInt(segmentSizeBytes);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const segment = await archivedSegment();
    if (segment !== undefined && segmentEndLsn(segment, segmentSizeBytes) >= needed) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Runs pgbench with `pgbenchArgs` and samples the lag of the archiver whose progress `archivedSegment` reads. */
export async function measureArchiveLag(
  pg: PostgresServer,
  archivedSegment: () => Promise<string | undefined>,
  options: { pgbenchArgs: readonly string[]; segmentSizeBytes: number; drainTimeoutMs: number },
): Promise<LagRun> {
  const { segmentSizeBytes } = options;
  const startLsn = await currentLsn(pg);
  const lags: number[] = [];
  let loading = true;
  const startedMs = Date.now();
  const load = runPgbench(pg, options.pgbenchArgs).finally(() => (loading = false));
  while (loading) {
    const [lsn, segment] = await Promise.all([currentLsn(pg), archivedSegment()]);
    const archivedEnd = segment === undefined ? 0n : segmentEndLsn(segment, segmentSizeBytes);
    lags.push(Math.max(0, Number(lsn - archivedEnd)));
    await Promise.race([load.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 500))]);
  }
  const output = await load;
  const endedMs = Date.now();
  const endLsn = await currentLsn(pg);
  const caughtUp = await waitArchived(archivedSegment, endLsn, segmentSizeBytes, options.drainTimeoutMs);
  return {
    loadSeconds: (endedMs - startedMs) / 1000,
    tps: Number(/tps = ([\d.]+)/.exec(output)?.[1] ?? Number.NaN),
    walBytes: Number(endLsn - startLsn),
    maxLagBytes: Math.max(...lags),
    medianLagBytes: median(lags),
    catchUpSeconds: caughtUp ? (Date.now() - endedMs) / 1000 : null,
  };
}
