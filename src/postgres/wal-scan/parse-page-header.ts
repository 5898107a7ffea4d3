// Reads and validates one WAL page header the way XLogReaderValidatePageHeader does. A page that fails is
// where valid WAL ends (zeros, a recycled segment's old page, another cluster's file), so failures are
// returned as a reason, not thrown; only a segment size contradicting the caller's is an error.
import { LifeboatError } from '../../errors/index.js';
import { readUint16LE, readUint32LE, readUint64LE } from './little-endian.js';
import {
  LONG_PAGE_HEADER_BYTES,
  SHORT_PAGE_HEADER_BYTES,
  WAL_PAGE_BYTES,
  XLP_ALL_FLAGS,
  XLP_LONG_HEADER,
  walFormatOfMagic,
  type WalFormat,
} from './wal-format.js';

/** A valid page header. */
export interface WalPageHeader {
  format: WalFormat;
  /** xlp_info flag bits. */
  info: number;
  /** xlp_tli. */
  timeline: number;
  /** xlp_rem_len: bytes of a record continued from the previous page. */
  remainingLength: number;
  /** Where the page's payload starts: 40 with a long header, else 24. */
  headerBytes: number;
  /** xlp_sysid of a long header, in decimal. */
  systemIdentifier?: string;
}

/** What the page must agree with. */
export interface PageExpectations {
  /** Offset of the page in its segment, in bytes. */
  pageOffset: number;
  /** The page's own LSN split in 32-bit halves (xlp_pageaddr must equal it). */
  addressHigh: number;
  addressLow: number;
  /** The format of earlier pages; any supported magic is accepted for the first. */
  format: WalFormat | undefined;
  /** xlp_tli of the previous page; timelines never go down within valid WAL. */
  previousTimeline: number | undefined;
  /** The cluster's system identifier, when already known. */
  systemIdentifier: string | undefined;
  segmentSizeBytes: number;
  /** For messages. */
  segmentName: string;
}

const hex4 = (value: number): string => value.toString(16).toUpperCase().padStart(4, '0');
const hexLsn = (high: number, low: number): string => `${high.toString(16).toUpperCase()}/${low.toString(16).toUpperCase()}`;

/**
 * The header of `page` (at least 24 bytes long), or why the page is not valid WAL here.
 * Throws a usage error when a valid long header records a wal_segment_size other than the caller's.
 */
export function parsePageHeader(page: Uint8Array, expect: PageExpectations): WalPageHeader | string {
  const where = `offset ${expect.pageOffset}`;
  const magic = readUint16LE(page, 0);
  const format = expect.format ?? walFormatOfMagic(magic);
  if (format === undefined || magic !== format.magic) return `invalid magic number ${hex4(magic)} at ${where}`;
  const info = readUint16LE(page, 2);
  if ((info & ~XLP_ALL_FLAGS) !== 0) return `invalid info bits ${hex4(info)} at ${where}`;
  const long = (info & XLP_LONG_HEADER) !== 0;
  if (!long && expect.pageOffset === 0) return `the first page has no long header (info bits ${hex4(info)})`;
  if (long) {
    if (page.length < LONG_PAGE_HEADER_BYTES) return `the bytes end inside the long page header at ${where}`;
    const segmentSizeBytes = readUint32LE(page, 32);
    if (segmentSizeBytes !== expect.segmentSizeBytes) {
      throw new LifeboatError('usage', `wal segment ${expect.segmentName} was written with ${segmentSizeBytes}-byte segments, not ${expect.segmentSizeBytes}`, {
        hint: "scan with the cluster's wal_segment_size (SHOW wal_segment_size)",
      });
    }
    const pageBytes = readUint32LE(page, 36);
    if (pageBytes !== WAL_PAGE_BYTES) return `WAL pages of ${pageBytes} bytes are not supported (only ${WAL_PAGE_BYTES})`;
  }
  const addressLow = readUint32LE(page, 8);
  const addressHigh = readUint32LE(page, 12);
  if (addressLow !== expect.addressLow || addressHigh !== expect.addressHigh) {
    return `unexpected pageaddr ${hexLsn(addressHigh, addressLow)} at ${where} (typically a recycled segment's old page)`;
  }
  const timeline = readUint32LE(page, 4);
  if (expect.previousTimeline !== undefined && timeline < expect.previousTimeline) {
    return `out-of-sequence timeline ID ${timeline} (after ${expect.previousTimeline}) at ${where}`;
  }
  const header: WalPageHeader = {
    format,
    info,
    timeline,
    remainingLength: readUint32LE(page, 16),
    headerBytes: long ? LONG_PAGE_HEADER_BYTES : SHORT_PAGE_HEADER_BYTES,
  };
  if (!long) return header;
  const systemIdentifier = readUint64LE(page, 24).toString();
  if (expect.systemIdentifier !== undefined && systemIdentifier !== expect.systemIdentifier) {
    return `WAL from a different database system (system identifier ${systemIdentifier}, expected ${expect.systemIdentifier})`;
  }
  return { ...header, systemIdentifier };
}
