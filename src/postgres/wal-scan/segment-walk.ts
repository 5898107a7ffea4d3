// Walks one segment's pages and records the way PostgreSQL's xlogreader does: page header checks,
// continuation records across pages and segments, xl_prev links and the CRC-32C of every record. The first
// check that fails is where valid WAL ends; what valid records mean goes to the WalScanTally.
import { LifeboatError } from '../../errors/index.js';
import { formatLsn, lsnFromBigInt, type Lsn } from '../lsn.js';
import type { WalSegmentName } from '../wal-segment.js';
import { CRC32C_INIT, finishCrc32c, updateCrc32c } from './crc32c.js';
import { readUint32LE } from './little-endian.js';
import { parseMainDataLength } from './parse-main-data-length.js';
import { parsePageHeader } from './parse-page-header.js';
import { classifyRecord, RecordAssembly, RecordKind } from './record-assembly.js';
import {
  alignRecord,
  MAX_RECORD_BYTES,
  RECORD_CRC_OFFSET,
  RECORD_HEADER_BYTES,
  SHORT_PAGE_HEADER_BYTES,
  WAL_PAGE_BYTES,
  walFormatOfMagic,
  XLP_FIRST_IS_CONTRECORD,
  XLP_FIRST_IS_OVERWRITE_CONTRECORD,
  type WalFormat,
} from './wal-format.js';
import type { WalScanCarry } from './wal-scan-summary.js';
import { WalScanTally } from './wal-scan-tally.js';

const TWO_POW_32 = 0x1_0000_0000;

/** The walk over one segment. Offsets are bytes from the segment's start (negative: an earlier segment). */
export class SegmentWalk {
  readonly tally: WalScanTally;
  /** Set once valid WAL ended (invalid data, or an XLOG_SWITCH that pads the rest): later pages are ignored. */
  ended = false;
  /** Why valid WAL ended early, when it did. */
  invalidReason: string | undefined;
  /** An XLOG_SWITCH record ended the segment. */
  switched = false;
  format: WalFormat | undefined;
  /** xlp_tli of the last valid page. */
  timeline: number | undefined;
  systemIdentifier: string | undefined;
  /** Start of the first complete record that starts in this segment, or -1. */
  firstRecordOffset = -1;
  /** Where valid WAL ends so far (see WalScanSummary.endLsn). */
  endOffset = 0;

  private readonly startHigh: number;
  private readonly startLow: number;
  private nextPageOffset = 0;
  private record: RecordAssembly | undefined;
  private inRecord = false;
  /** True until the first record boundary: a continuation of a record never seen is skipped unchecked. */
  private skipping = true;
  /** Start of the last complete record: the next record's xl_prev. */
  private previousRecordOffset: number | undefined;

  constructor(
    private readonly segment: WalSegmentName,
    private readonly startLsn: Lsn,
    private readonly segmentSizeBytes: number,
    carry: WalScanCarry | undefined,
  ) {
    this.startHigh = Number(startLsn >> 32n);
    this.startLow = Number(startLsn & 0xffffffffn);
    this.tally = new WalScanTally((offset) => this.lsnAt(offset));
    if (carry !== undefined) this.resume(carry);
  }

  /** Validates the next page (the last may be partial) and walks the records on it. */
  processPage(page: Uint8Array): void {
    const pageOffset = this.nextPageOffset;
    this.nextPageOffset += WAL_PAGE_BYTES;
    // A page cut inside its header is missing data, which the scanner reports.
    if (page.length < SHORT_PAGE_HEADER_BYTES) return;
    const header = parsePageHeader(page, {
      pageOffset,
      addressHigh: this.startHigh,
      addressLow: this.startLow + pageOffset,
      format: this.format,
      previousTimeline: this.timeline,
      systemIdentifier: this.systemIdentifier,
      segmentSizeBytes: this.segmentSizeBytes,
      segmentName: this.segment,
    });
    if (typeof header === 'string') return this.end(header);
    this.format = header.format;
    this.timeline = header.timeline;
    if (header.systemIdentifier !== undefined) this.systemIdentifier = header.systemIdentifier;

    let position = header.headerBytes;
    const continued = (header.info & XLP_FIRST_IS_CONTRECORD) !== 0;
    const pending = this.inRecord ? this.record : undefined;
    if (pending !== undefined) {
      if ((header.info & XLP_FIRST_IS_OVERWRITE_CONTRECORD) !== 0) {
        // Crash recovery gave up on the unfinished record and wrote new WAL where its tail would be.
        this.inRecord = false;
      } else if (!continued) {
        return this.end(`there is no contrecord flag at ${this.formatAt(pageOffset + position)}`);
      } else if (header.remainingLength === 0 || header.remainingLength !== pending.remainingBytes) {
        return this.end(`invalid contrecord length ${header.remainingLength} (expected ${pending.remainingBytes}) at ${this.formatAt(pageOffset + position)}`);
      }
    } else if (this.skipping) {
      // The segment starts inside a record whose start we never saw (XLogFindNextRecord's skip).
      if (continued) {
        const skipBytes = alignRecord(header.remainingLength);
        if (skipBytes >= WAL_PAGE_BYTES - position) return;
        position += skipBytes;
        this.endOffset = pageOffset + position;
      }
      this.skipping = false;
    } else if (continued) {
      return this.end(`contrecord is requested by ${this.formatAt(pageOffset + position)}`);
    }
    this.walkRecords(page, pageOffset, position, header.format);
  }

  /** The hand-over to the next segment's scan, once this one ran to its end. */
  carry(): WalScanCarry {
    const pending = this.inRecord && this.record !== undefined ? this.record.clone() : undefined;
    if (pending !== undefined) pending.startOffset -= this.segmentSizeBytes;
    return {
      nextSegmentStartLsn: this.lsnAt(this.segmentSizeBytes),
      magic: this.format?.magic ?? 0,
      timeline: this.timeline ?? 0,
      ...(this.systemIdentifier !== undefined && { systemIdentifier: this.systemIdentifier }),
      ...(this.previousRecordOffset !== undefined && { lastRecordLsn: this.lsnAt(this.previousRecordOffset) }),
      ...(pending !== undefined && { pendingRecord: pending }),
    };
  }

  lsnAt(offset: number): Lsn {
    return lsnFromBigInt(this.startLsn + BigInt(offset));
  }

  private resume(carry: WalScanCarry): void {
    if (carry.nextSegmentStartLsn !== this.startLsn) {
      throw new LifeboatError('usage', `the scan carry continues into ${formatLsn(carry.nextSegmentStartLsn)}, not into segment ${this.segment}`, {
        hint: 'pass the carry of the segment just before this one',
      });
    }
    this.format = walFormatOfMagic(carry.magic);
    this.timeline = carry.timeline;
    this.systemIdentifier = carry.systemIdentifier;
    if (carry.lastRecordLsn !== undefined) this.previousRecordOffset = Number(carry.lastRecordLsn - this.startLsn);
    if (carry.pendingRecord !== undefined) {
      this.record = carry.pendingRecord.clone();
      this.inRecord = true;
    }
    // With a record boundary behind us, a continuation must belong to the pending record.
    this.skipping = carry.lastRecordLsn === undefined && carry.pendingRecord === undefined;
  }

  /** Feeds the page's bytes from `position` on into the record in progress, and the records after it. */
  private walkRecords(page: Uint8Array, pageOffset: number, position: number, format: WalFormat): void {
    const record = (this.record ??= new RecordAssembly(format.compressedImageMask));
    const length = page.length;
    while (position < length) {
      if (!this.inRecord) {
        const available = length - position;
        const totalLength = available >= RECORD_HEADER_BYTES ? readUint32LE(page, position) : 0;
        if (available >= RECORD_HEADER_BYTES && totalLength <= available) {
          position = this.readWholeRecord(page, pageOffset, position, totalLength, format);
          if (this.ended) return;
          continue;
        }
        record.begin(pageOffset + position);
        this.inRecord = true;
      }
      if (record.headerFill < RECORD_HEADER_BYTES) {
        position = record.takeHeader(page, position, length);
        if (record.headerFill >= 4 && record.totalLength < RECORD_HEADER_BYTES) return this.end(this.shortRecordReason(record.startOffset, record.totalLength));
        if (record.headerFill < RECORD_HEADER_BYTES) return;
        const problem = this.checkRecordHeader(record.header, 0, record.startOffset, record.totalLength);
        if (problem !== undefined) return this.end(problem);
      }
      const count = Math.min(record.remainingBytes, length - position);
      if (count > 0) {
        record.takeData(page, position, count);
        position += count;
      }
      if (record.remainingBytes > 0) return;
      if (!record.crcMatches()) return this.end(this.crcReason(record.startOffset));
      position = alignRecord(position);
      this.inRecord = false;
      this.completeRecord(record.kind, record.startOffset, pageOffset + position, record.mainData, 0, record.mainDataLength);
      if (this.ended) return;
    }
  }

  /**
   * The common case, a record wholly on this page: checked and read in place, without copying. Returns the
   * position after it. Same checks as the assembling path, in xlogreader's order.
   */
  private readWholeRecord(page: Uint8Array, pageOffset: number, position: number, totalLength: number, format: WalFormat): number {
    const startOffset = pageOffset + position;
    if (totalLength < RECORD_HEADER_BYTES) {
      this.end(this.shortRecordReason(startOffset, totalLength));
      return position;
    }
    const problem = this.checkRecordHeader(page, position, startOffset, totalLength);
    if (problem !== undefined) {
      this.end(problem);
      return position;
    }
    const dataCrc = updateCrc32c(CRC32C_INIT, page, position + RECORD_HEADER_BYTES, position + totalLength);
    if (finishCrc32c(updateCrc32c(dataCrc, page, position, position + RECORD_CRC_OFFSET)) !== readUint32LE(page, position + RECORD_CRC_OFFSET)) {
      this.end(this.crcReason(startOffset));
      return position;
    }
    const kind = classifyRecord(page[position + 17]!, page[position + 16]!);
    let mainDataLength = -1;
    if (kind === RecordKind.xactEnd || kind === RecordKind.restorePoint) {
      const dataLength = totalLength - RECORD_HEADER_BYTES;
      mainDataLength = parseMainDataLength(page, position + RECORD_HEADER_BYTES, dataLength, dataLength, format.compressedImageMask);
    }
    const end = alignRecord(position + totalLength);
    this.completeRecord(kind, startOffset, pageOffset + end, page, position + totalLength - Math.max(mainDataLength, 0), mainDataLength);
    return end;
  }

  /** ValidXLogRecordHeader on the header at `header[at]`: a plausible length and, when known, the exact xl_prev. */
  private checkRecordHeader(header: Uint8Array, at: number, startOffset: number, totalLength: number): string | undefined {
    if (totalLength > MAX_RECORD_BYTES) return `record length ${totalLength} at ${this.formatAt(startOffset)} too long`;
    if (this.previousRecordOffset === undefined) return undefined;
    // The expected xl_prev in 32-bit halves; the previous record may lie in the segment before.
    let low = this.startLow + this.previousRecordOffset;
    let high = this.startHigh;
    if (low < 0) {
      low += TWO_POW_32;
      high -= 1;
    }
    const prevLow = readUint32LE(header, at + 8);
    const prevHigh = readUint32LE(header, at + 12);
    if (prevLow === low && prevHigh === high) return undefined;
    const prev = formatLsn(lsnFromBigInt((BigInt(prevHigh) << 32n) | BigInt(prevLow)));
    return `record with incorrect prev-link ${prev} at ${this.formatAt(startOffset)}`;
  }

  /**
   * Accounts a CRC-checked record of `kind` from `startOffset` to `endOffset` (MAXALIGNed), whose main data
   * (or its first 72 bytes) is at `main[mainStart]`, `mainDataLength` long (-1: header area malformed).
   */
  private completeRecord(kind: RecordKind, startOffset: number, endOffset: number, main: Uint8Array, mainStart: number, mainDataLength: number): void {
    if (mainDataLength < 0 && (kind === RecordKind.xactEnd || kind === RecordKind.restorePoint)) {
      // DecodeXLogRecord rejects a header area that does not add up, so valid WAL ends before this record.
      return this.end(`record with invalid length at ${this.formatAt(startOffset)}`);
    }
    if (startOffset >= 0 && this.firstRecordOffset < 0) this.firstRecordOffset = startOffset;
    this.previousRecordOffset = startOffset;
    this.endOffset = endOffset;
    if (kind === RecordKind.xactEnd) {
      this.tally.addTransactionEnd(main, mainStart, mainDataLength, endOffset);
    } else if (kind === RecordKind.restorePoint) {
      this.tally.addRestorePoint(main, mainStart, mainDataLength, endOffset);
    } else if (kind === RecordKind.walSwitch) {
      // The rest of the segment is zero padding that belongs to the switch (xlogreader "pretends" so too).
      this.switched = true;
      this.endOffset = this.segmentSizeBytes;
      this.ended = true;
    }
  }

  private shortRecordReason(startOffset: number, totalLength: number): string {
    return `invalid record length at ${this.formatAt(startOffset)}: expected at least ${RECORD_HEADER_BYTES}, got ${totalLength}`;
  }

  private crcReason(startOffset: number): string {
    return `incorrect resource manager data checksum in record at ${this.formatAt(startOffset)}`;
  }

  private end(reason: string): void {
    this.ended = true;
    this.inRecord = false;
    this.invalidReason = reason;
  }

  private formatAt(offset: number): string {
    return formatLsn(this.lsnAt(offset));
  }
}
