// The archive check (pgBackRest's): a base backup is usable only with the WAL from its start to its stop,
// so the backup waits, with a timeout, until that WAL is in the repository before declaring itself complete.
// While waiting it says what it awaits, and it fails within seconds when no archiver is there to deliver it.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { LifeboatError } from '../../errors/index.js';
import { formatLsn, type Lsn, type TimelineId } from '../../postgres/index.js';
import { checkWalCoverage } from '../../repository/find-wal-gaps.js';
import { listArchivedWal, type ArchivedWal } from '../../repository/list-archived-wal.js';
import type { Storage } from '../../storage/index.js';
import type { ArchiverWatch } from '../wal-archive/watch-archiver.js';

export interface WaitForWalOptions {
  storage: Storage;
  cluster: string;
  timeline: TimelineId;
  startLsn: Lsn;
  stopLsn: Lsn;
  segmentSizeBytes: number;
  timeoutMs: number;
  pollMs?: number;
  /** How often progress is logged while waiting, in ms; default 10 000. */
  logEveryMs?: number;
  /** What is awaited, for messages; default "the WAL this backup needs (<start> to <stop>)". */
  what?: string;
  /** Fails the wait early when no archiver is working; without it only the timeout ends the wait. */
  archiver?: ArchiverWatch;
  log?: Logger;
  signal: AbortSignal;
}

/** A fingerprint of what WAL the repository holds: it changes whenever any segment or partial arrives. */
function walFingerprint(wal: ArchivedWal): string {
  let partials = 0;
  for (const list of wal.partials.values()) partials += list.length;
  return `${wal.segments.size}/${partials}`;
}

function newestSegment(wal: ArchivedWal): string | undefined {
  let newest: string | undefined;
  for (const segment of wal.segments.keys()) if (newest === undefined || segment > newest) newest = segment;
  return newest;
}

/** Resolves once the WAL is in the repository; returns how long that took, in ms. */
export async function waitForWal(options: WaitForWalOptions): Promise<number> {
  const startedMs = Date.now();
  const deadline = startedMs + options.timeoutMs;
  const what = options.what ?? `the WAL this backup needs (${formatLsn(options.startLsn)} to ${formatLsn(options.stopLsn)})`;
  const logEveryMs = options.logEveryMs ?? 10_000;
  let lastLogMs = 0;
  let previous: string | undefined;
  for (;;) {
    const wal = await listArchivedWal(options.storage, options.cluster, options.signal);
    const coverage = checkWalCoverage(wal, options.timeline, options.startLsn, options.stopLsn, options.segmentSizeBytes);
    if (coverage.missing.length === 0) return Date.now() - startedMs;
    const fingerprint = walFingerprint(wal);
    const progressed = previous !== undefined && fingerprint !== previous;
    previous = fingerprint;
    const evidence = await options.archiver?.observe(progressed, what);
    if (Date.now() - lastLogMs >= logEveryMs) {
      lastLogMs = Date.now();
      options.log?.info(
        {
          awaitedSegment: coverage.missing[0],
          missingSegments: coverage.missing.length,
          newestArchivedSegment: newestSegment(wal) ?? null,
          ...(evidence ? { archiverSlotActive: evidence.slotActive ?? null, localArchiverPid: evidence.localArchiver?.pid ?? null } : {}),
          waitedSeconds: Math.round((Date.now() - startedMs) / 1000),
          timeoutSeconds: Math.round(options.timeoutMs / 1000),
        },
        'waiting for WAL to reach the repository',
      );
    }
    if (Date.now() >= deadline) {
      const shown = coverage.missing.slice(0, 5).join(', ') + (coverage.missing.length > 5 ? `, ... (${coverage.missing.length} in all)` : '');
      throw new LifeboatError(
        'storageUnavailable',
        `${what} did not reach the repository within ${Math.round(options.timeoutMs / 1000)} s; missing: ${shown}`,
        { hint: 'is `lifeboat wal archive` running for this cluster, and can it write to the repository? See its log; raise clusters[].wal.archiveTimeoutSeconds for slow links' },
      );
    }
    await sleep(options.pollMs ?? 1000, undefined, { signal: options.signal });
  }
}
