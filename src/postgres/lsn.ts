// Log sequence numbers: PostgreSQL's "XXXXXXXX/XXXXXXXX" WAL positions, as a branded bigint so they compare
// and subtract exactly (they exceed 2^53) and never mix with plain numbers.
import { LifeboatError } from '../errors/index.js';

declare const lsnBrand: unique symbol;
/** A WAL position in bytes since the start of WAL. */
export type Lsn = bigint & { readonly [lsnBrand]: true };

const LSN_PATTERN = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

/** Parse "16/B374D848". Throws a usage error naming the bad text. */
export function parseLsn(text: string): Lsn {
  const match = LSN_PATTERN.exec(text.trim());
  if (!match) {
    throw new LifeboatError('usage', `"${text}" is not an LSN`, { hint: 'an LSN looks like 0/1A2B3C4D (two hex numbers separated by "/")' });
  }
  return ((BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`)) as Lsn;
}

/** Format as PostgreSQL does: upper-case hex, no zero padding. */
export function formatLsn(lsn: Lsn): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

export function lsnFromBigInt(value: bigint): Lsn {
  if (value < 0n || value > 0xffffffffffffffffn) throw new LifeboatError('internal', `LSN out of range: ${value}`);
  return value as Lsn;
}

export function compareLsn(a: Lsn, b: Lsn): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Bytes from `from` to `to` (negative when `to` is earlier). */
export function lsnDiffBytes(to: Lsn, from: Lsn): bigint {
  return to - from;
}
