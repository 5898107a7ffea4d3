// One WAL record being put together from page fragments: its 24-byte header, a running CRC-32C over its
// data and, for the few kinds the scanner interprets, its header area and the start of its main data.
// Memory stays bounded (under 3 KiB) whatever the record's size: all other bytes are checksummed and dropped.
import { CRC32C_INIT, finishCrc32c, updateCrc32c } from './crc32c.js';
import { readUint32LE } from './little-endian.js';
import { parseMainDataLength } from './parse-main-data-length.js';
import {
  RECORD_CRC_OFFSET,
  RECORD_HEADER_BYTES,
  RESTORE_POINT_MAIN_DATA_BYTES,
  RM_XACT_ID,
  RM_XLOG_ID,
  XLOG_INFO_MASK,
  XLOG_RESTORE_POINT,
  XLOG_SWITCH,
  XLOG_XACT_ABORT,
  XLOG_XACT_ABORT_PREPARED,
  XLOG_XACT_COMMIT,
  XLOG_XACT_COMMIT_PREPARED,
  XLOG_XACT_OPMASK,
} from './wal-format.js';

/** What the scanner does with a record once its CRC checks out. */
export const RecordKind = { other: 0, xactEnd: 1, restorePoint: 2, walSwitch: 3 } as const;
export type RecordKind = (typeof RecordKind)[keyof typeof RecordKind];

/** Header area bytes kept; a valid header area is under 1 KiB. */
const HEAD_CAPTURE_BYTES = 2048;
/** Main data bytes kept: enough for xl_restore_point, the largest struct read. */
const MAIN_CAPTURE_BYTES = RESTORE_POINT_MAIN_DATA_BYTES;

/** The kind of a record with resource manager `rmid` and xl_info `info`. */
export function classifyRecord(rmid: number, info: number): RecordKind {
  if (rmid === RM_XACT_ID) {
    const op = info & XLOG_XACT_OPMASK;
    const endsTransaction = op === XLOG_XACT_COMMIT || op === XLOG_XACT_ABORT || op === XLOG_XACT_COMMIT_PREPARED || op === XLOG_XACT_ABORT_PREPARED;
    return endsTransaction ? RecordKind.xactEnd : RecordKind.other;
  }
  if (rmid === RM_XLOG_ID) {
    const op = info & XLOG_INFO_MASK;
    if (op === XLOG_RESTORE_POINT) return RecordKind.restorePoint;
    if (op === XLOG_SWITCH) return RecordKind.walSwitch;
  }
  return RecordKind.other;
}

/** A record in progress. Mutable and reused for every record of a scan; {@link clone} it to keep it. */
export class RecordAssembly {
  /** Start of the record in bytes from the scanned segment's start; negative when it began in an earlier segment. */
  startOffset = 0;
  /** The XLogRecord header bytes received so far (`headerFill` of them). */
  readonly header = new Uint8Array(RECORD_HEADER_BYTES);
  headerFill = 0;
  /** xl_tot_len once its 4 bytes arrived (always on the record's first page), else 0. */
  totalLength = 0;
  /** Record data bytes (after the header) received so far. */
  dataFill = 0;
  kind: RecordKind = RecordKind.other;
  /** For interpreted kinds, the first min(mainDataLength, 72) bytes of the main data, once the record is complete. */
  readonly mainData = new Uint8Array(MAIN_CAPTURE_BYTES);
  /** Main data length from the header area, -1 while unknown or unparseable. */
  mainDataLength = -1;
  private crc = CRC32C_INIT;
  private readonly head = new Uint8Array(HEAD_CAPTURE_BYTES);
  private headLength = 0;
  private mainDataStart = -1;

  /** @param compressedImageMask bimg_info "compressed" bits of the WAL version being read (WalFormat). */
  constructor(private readonly compressedImageMask: number) {}

  /** Starts a new record at `startOffset`. */
  begin(startOffset: number): void {
    this.startOffset = startOffset;
    this.headerFill = 0;
    this.totalLength = 0;
    this.dataFill = 0;
    this.kind = RecordKind.other;
    this.mainDataLength = -1;
    this.crc = CRC32C_INIT;
    this.headLength = 0;
    this.mainDataStart = -1;
  }

  /** Copies header bytes from `source[position, end)`; returns the position after the bytes taken. */
  takeHeader(source: Uint8Array, position: number, end: number): number {
    const header = this.header;
    let fill = this.headerFill;
    while (fill < RECORD_HEADER_BYTES && position < end) header[fill++] = source[position++]!;
    this.headerFill = fill;
    if (fill >= 4) this.totalLength = readUint32LE(header, 0);
    if (fill === RECORD_HEADER_BYTES) {
      this.kind = classifyRecord(header[17]!, header[16]!);
      const interpreted = this.kind === RecordKind.xactEnd || this.kind === RecordKind.restorePoint;
      this.headLength = interpreted ? Math.min(this.totalLength - RECORD_HEADER_BYTES, HEAD_CAPTURE_BYTES) : 0;
    }
    return position;
  }

  /** Bytes of the record (header included) not received yet; valid once `totalLength` is known. */
  get remainingBytes(): number {
    return this.totalLength - this.headerFill - this.dataFill;
  }

  /** Takes `count` record data bytes at `source[position]`. Call only once the header is complete. */
  takeData(source: Uint8Array, position: number, count: number): void {
    this.crc = updateCrc32c(this.crc, source, position, position + count);
    if (this.headLength > 0) this.capture(source, position, count);
    this.dataFill += count;
  }

  /** True when xl_crc matches the data and header (ValidXLogRecord); call once remainingBytes is 0. */
  crcMatches(): boolean {
    const crc = finishCrc32c(updateCrc32c(this.crc, this.header, 0, RECORD_CRC_OFFSET));
    return crc === readUint32LE(this.header, RECORD_CRC_OFFSET);
  }

  /** A frozen copy, to carry a record across a segment boundary. */
  clone(): RecordAssembly {
    const copy = new RecordAssembly(this.compressedImageMask);
    copy.startOffset = this.startOffset;
    copy.header.set(this.header);
    copy.headerFill = this.headerFill;
    copy.totalLength = this.totalLength;
    copy.dataFill = this.dataFill;
    copy.kind = this.kind;
    copy.mainData.set(this.mainData);
    copy.mainDataLength = this.mainDataLength;
    copy.crc = this.crc;
    copy.head.set(this.head);
    copy.headLength = this.headLength;
    copy.mainDataStart = this.mainDataStart;
    return copy;
  }

  // Keeps the header area and the first main data bytes. Main data bytes inside the header-area window are
  // copied from `head` once the main data's position is known; later ones straight from the page.
  private capture(source: Uint8Array, position: number, count: number): void {
    const from = this.dataFill;
    const to = from + count;
    const headLength = this.headLength;
    if (from < headLength) {
      const taken = Math.min(to, headLength) - from;
      this.head.set(source.subarray(position, position + taken), from);
      if (from + taken === headLength) this.locateMainData();
    }
    if (this.mainDataStart < 0) return;
    const low = Math.max(from, headLength, this.mainDataStart);
    const high = Math.min(to, this.mainDataStart + Math.min(this.mainDataLength, MAIN_CAPTURE_BYTES));
    if (high > low) this.mainData.set(source.subarray(position + (low - from), position + (high - from)), low - this.mainDataStart);
  }

  private locateMainData(): void {
    const dataLength = this.totalLength - RECORD_HEADER_BYTES;
    const mainDataLength = parseMainDataLength(this.head, 0, this.headLength, dataLength, this.compressedImageMask);
    if (mainDataLength < 0) return;
    this.mainDataLength = mainDataLength;
    this.mainDataStart = dataLength - mainDataLength;
    const end = Math.min(this.headLength, this.mainDataStart + Math.min(mainDataLength, MAIN_CAPTURE_BYTES));
    if (end > this.mainDataStart) this.mainData.set(this.head.subarray(this.mainDataStart, end), 0);
  }
}
