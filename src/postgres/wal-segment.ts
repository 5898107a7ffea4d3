// WAL segment file names ("000000010000000A000000FF": timeline, then the segment number split in two) and
// their relation to LSNs, for any wal_segment_size (16 MiB by default, a power of two from 1 MiB to 1 GiB).
import { LifeboatError } from '../errors/index.js';
import { lsnFromBigInt, type Lsn } from './lsn.js';

declare const segmentBrand: unique symbol;
/** A 24-hex-digit WAL segment file name. */
export type WalSegmentName = string & { readonly [segmentBrand]: true };

declare const timelineBrand: unique symbol;
/** A timeline id (1 for a cluster that was never promoted from a restore or standby). */
export type TimelineId = number & { readonly [timelineBrand]: true };

export const DEFAULT_WAL_SEGMENT_SIZE = 16 * 1024 * 1024;
const SEGMENT_PATTERN = /^[0-9A-F]{24}$/;

export function toTimelineId(value: number): TimelineId {
  if (!Number.isInteger(value) || value < 1 || value > 0xffffffff) {
    throw new LifeboatError('usage', `${value} is not a timeline id`, { hint: 'timelines are positive integers (1, 2, ...)' });
  }
  return value as TimelineId;
}

export function isWalSegmentName(name: string): name is WalSegmentName {
  return SEGMENT_PATTERN.test(name);
}

export function parseWalSegmentName(name: string): WalSegmentName {
  if (!isWalSegmentName(name)) {
    throw new LifeboatError('usage', `"${name}" is not a WAL segment name`, { hint: 'WAL segment names are 24 upper-case hex digits, e.g. 000000010000000000000003' });
  }
  return name;
}

function segmentsPerXLogId(segmentSize: number): bigint {
  return 0x100000000n / BigInt(segmentSize);
}

/** The segment number (since the start of WAL) holding `lsn`. */
export function segmentNumberOf(lsn: Lsn, segmentSize = DEFAULT_WAL_SEGMENT_SIZE): bigint {
  return lsn / BigInt(segmentSize);
}

/** The file name of segment number `segno` on `timeline`. */
export function walSegmentName(timeline: TimelineId, segno: bigint, segmentSize = DEFAULT_WAL_SEGMENT_SIZE): WalSegmentName {
  const perId = segmentsPerXLogId(segmentSize);
  const hex = (value: bigint | number): string => value.toString(16).toUpperCase().padStart(8, '0');
  return `${hex(timeline)}${hex(segno / perId)}${hex(segno % perId)}` as WalSegmentName;
}

/** The segment holding `lsn` on `timeline`. */
export function walSegmentOf(timeline: TimelineId, lsn: Lsn, segmentSize = DEFAULT_WAL_SEGMENT_SIZE): WalSegmentName {
  return walSegmentName(timeline, segmentNumberOf(lsn, segmentSize), segmentSize);
}

/** Timeline and segment number of a segment file name. */
export function parseWalSegment(name: WalSegmentName, segmentSize = DEFAULT_WAL_SEGMENT_SIZE): { timeline: TimelineId; segno: bigint } {
  const timeline = Number.parseInt(name.slice(0, 8), 16) as TimelineId;
  const high = BigInt(`0x${name.slice(8, 16)}`);
  const low = BigInt(`0x${name.slice(16, 24)}`);
  return { timeline, segno: high * segmentsPerXLogId(segmentSize) + low };
}

/** First LSN inside the segment. */
export function segmentStartLsn(name: WalSegmentName, segmentSize = DEFAULT_WAL_SEGMENT_SIZE): Lsn {
  return lsnFromBigInt(parseWalSegment(name, segmentSize).segno * BigInt(segmentSize));
}

/** The segment after `name` on the same timeline. */
export function nextWalSegment(name: WalSegmentName, segmentSize = DEFAULT_WAL_SEGMENT_SIZE): WalSegmentName {
  const { timeline, segno } = parseWalSegment(name, segmentSize);
  return walSegmentName(timeline, segno + 1n, segmentSize);
}

/** `.history` file name of a timeline, e.g. 00000002.history. */
export function timelineHistoryFileName(timeline: TimelineId): string {
  return `${timeline.toString(16).toUpperCase().padStart(8, '0')}.history`;
}
