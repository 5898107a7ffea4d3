// The error for WAL the archive needs but the server no longer has: it names the first and last lost
// segment, so the operator knows exactly which restores are broken, and it is never retried or skipped.
import { LifeboatError, describeError } from '../../errors/index.js';
import { segmentStartLsn, toTimelineId, type WalSegmentName } from '../../postgres/index.js';
import { segmentsBetween } from '../../repository/find-wal-gaps.js';

const HINT =
  'restores cannot cross this gap: take a new full backup now (`lifeboat backup full`) so the window starts again after it; ' +
  'keep the guard slot in place and max_slot_wal_keep_size unset (or large) so the server keeps WAL not yet archived';

/**
 * `firstMissing` is the first segment the archive lacks and the server could not provide; `oldestOnServer`
 * the oldest segment still in the server's pg_wal on that timeline (the lost range ends right before it).
 */
export function createWalGapError(
  firstMissing: WalSegmentName,
  oldestOnServer: WalSegmentName | undefined,
  segmentSizeBytes: number,
  context: { newestStored?: WalSegmentName; cause?: unknown } = {},
): LifeboatError {
  const timeline = toTimelineId(Number.parseInt(firstMissing.slice(0, 8), 16));
  const lost =
    oldestOnServer !== undefined && oldestOnServer > firstMissing
      ? segmentsBetween(timeline, segmentStartLsn(firstMissing, segmentSizeBytes), segmentStartLsn(oldestOnServer, segmentSizeBytes), segmentSizeBytes)
      : [firstMissing];
  const range = lost.length === 1 ? `segment ${lost[0]} is lost` : `segments ${lost[0]} to ${lost.at(-1)} are lost`;
  const needed = context.newestStored === undefined ? `streaming needs ${firstMissing}` : `the repository ends at segment ${context.newestStored}`;
  const server = oldestOnServer === undefined ? 'the server has no WAL file on this timeline' : `the server only keeps WAL from ${oldestOnServer}`;
  const detail = context.cause === undefined ? '' : ` (${describeError(context.cause)})`;
  return new LifeboatError('postgresConfig', `WAL gap: ${range}: ${needed} but ${server}${detail}`, { hint: HINT, cause: context.cause });
}

/** The segment pg_receivewal asked for when the server answered that it was removed, from its message. */
export function removedSegmentOf(error: unknown): WalSegmentName | undefined {
  return /requested WAL segment ([0-9A-F]{24}) has already been removed/.exec(describeError(error))?.[1] as WalSegmentName | undefined;
}
