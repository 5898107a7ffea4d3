// The archive check (pgBackRest's): a base backup is usable only with the WAL from its start to its stop,
// so the backup waits, with a timeout, until that WAL is in the repository before declaring itself complete.
import { setTimeout as sleep } from 'node:timers/promises';
import { LifeboatError } from '../../errors/index.js';
import { formatLsn, type Lsn, type TimelineId } from '../../postgres/index.js';
import { checkWalCoverage } from '../../repository/find-wal-gaps.js';
import { listArchivedWal } from '../../repository/list-archived-wal.js';
import type { Storage } from '../../storage/index.js';

export interface WaitForWalOptions {
  storage: Storage;
  cluster: string;
  timeline: TimelineId;
  startLsn: Lsn;
  stopLsn: Lsn;
  segmentSizeBytes: number;
  timeoutMs: number;
  pollMs?: number;
  signal: AbortSignal;
}

export async function waitForWal(options: WaitForWalOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const wal = await listArchivedWal(options.storage, options.cluster, options.signal);
    const coverage = checkWalCoverage(wal, options.timeline, options.startLsn, options.stopLsn, options.segmentSizeBytes);
    if (coverage.missing.length === 0) return;
    if (Date.now() >= deadline) {
      const shown = coverage.missing.slice(0, 5).join(', ') + (coverage.missing.length > 5 ? `, ... (${coverage.missing.length} in all)` : '');
      throw new LifeboatError(
        'storageUnavailable',
        `the WAL this backup needs (${formatLsn(options.startLsn)} to ${formatLsn(options.stopLsn)}) did not reach the repository within ${Math.round(options.timeoutMs / 1000)} s; missing: ${shown}`,
        { hint: 'is `lifeboat wal archive` running for this cluster? Start it (or the daemon) and take the backup again; raise clusters[].wal.archiveTimeoutSeconds for slow links' },
      );
    }
    await sleep(options.pollMs ?? 1000, undefined, { signal: options.signal });
  }
}
