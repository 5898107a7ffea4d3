// PostgreSQL's TimestampTz on the wire and in WAL: a signed 64-bit count of microseconds since
// 2000-01-01 00:00:00 UTC. Converted without BigInt because the scanner meets one per commit record.
import { readInt32LE, readUint32LE } from './little-endian.js';

/** Unix milliseconds of 2000-01-01T00:00:00Z, PostgreSQL's epoch. */
const PG_EPOCH_UNIX_MS = 946_684_800_000;
/** 2^32 = 4_294_967 * 1000 + 296: splits the high word so every partial product stays exact in a double. */
const HIGH_WORD_MS = 4_294_967;
const HIGH_WORD_REST_US = 296;

/**
 * Milliseconds since the Unix epoch of the TimestampTz whose 64-bit value has halves `high` (signed) and
 * `low` (unsigned), rounded down: a Date holds milliseconds, the sub-millisecond part is dropped.
 */
export function pgTimestampToUnixMs(high: number, low: number): number {
  const restUs = high * HIGH_WORD_REST_US + low;
  return PG_EPOCH_UNIX_MS + high * HIGH_WORD_MS + Math.floor(restUs / 1000);
}

/** The TimestampTz stored little-endian at `offset`, as a Date (microseconds truncated). */
export function readPgTimestamp(bytes: Uint8Array, offset: number): Date {
  return new Date(pgTimestampToUnixMs(readInt32LE(bytes, offset + 4), readUint32LE(bytes, offset)));
}
