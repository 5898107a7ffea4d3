// The first step of a graceful stop: before pg_receivewal is ended, wait (bounded) until the spool holds the WAL
// the server had written when the stop began. The walsender streams asynchronously, so without this wait a
// commit acknowledged just before SIGTERM is still in flight when the receiver stops, and the partial shipped at
// stop lacks it. Measured: a commit followed at once by SIGTERM was missing from the repository every time.
import { setTimeout as sleep } from 'node:timers/promises';
import { currentWalLsn, lsnFromBigInt, segmentStartLsn, type Lsn } from '../../postgres/index.js';
import type { ArchiverConnection } from './archiver-connection.js';
import { readSpool } from './read-spool.js';
import { scanSpoolPartial } from './scan-spool-partial.js';

export interface CatchUpReceiverOptions {
  connection: ArchiverConnection;
  spoolDir: string;
  segmentSizeBytes: number;
  /** End of the WAL already stored: shipped segments leave the spool, so an empty spool may be caught up. */
  storedEndLsn: () => Lsn | undefined;
  /** False once pg_receivewal has exited: nothing more will arrive, stop waiting. */
  receiverRunning: () => boolean;
  /** The whole wait, server query included. */
  timeoutMs: number;
}

export interface CatchUpResult {
  /** The server's WAL position when the stop began; undefined when the server could not be asked. */
  targetLsn: Lsn | undefined;
  /** True when the spool reached it. */
  reached: boolean;
}

const POLL_MS = 100;

/** Where the valid WAL in the spool ends: in the head partial, else at the end of the newest complete segment. */
export async function spoolEndLsn(spoolDir: string, segmentSizeBytes: number): Promise<Lsn | undefined> {
  const spool = await readSpool(spoolDir);
  if (spool.partial !== undefined) {
    // Undefined when completed (renamed) since the listing: the next poll sees it as a segment.
    return (await scanSpoolPartial(spoolDir, spool.partial, segmentSizeBytes))?.summary.endLsn;
  }
  const newest = spool.segments.at(-1);
  return newest === undefined ? undefined : lsnFromBigInt(segmentStartLsn(newest, segmentSizeBytes) + BigInt(segmentSizeBytes));
}

export async function catchUpReceiver(options: CatchUpReceiverOptions): Promise<CatchUpResult> {
  const deadline = Date.now() + options.timeoutMs;
  // The server may be down at stop: then there is nothing to wait for. The timer must not outlive the wait.
  const cancelTimer = new AbortController();
  const timeout = sleep(options.timeoutMs, 'timeout' as const, { signal: cancelTimer.signal }).catch(() => 'timeout' as const);
  const target = await Promise.race([options.connection.use((c) => currentWalLsn(c)).catch(() => undefined), timeout]);
  cancelTimer.abort();
  if (target === undefined || target === 'timeout') return { targetLsn: undefined, reached: false };
  const reached = async (): Promise<boolean> => {
    const stored = options.storedEndLsn();
    if (stored !== undefined && stored >= target) return true;
    const end = await spoolEndLsn(options.spoolDir, options.segmentSizeBytes);
    return end !== undefined && end >= target;
  };
  while (options.receiverRunning() && Date.now() < deadline) {
    if (await reached()) return { targetLsn: target, reached: true };
    await sleep(POLL_MS);
  }
  return { targetLsn: target, reached: await reached() };
}
