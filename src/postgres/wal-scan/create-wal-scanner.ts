// The streaming WAL segment scanner: takes a segment's bytes in chunks of any size, walks pages and records
// as PostgreSQL's xlogreader does (page header checks, xl_prev links, CRC-32C of every record), and collects
// commit/abort timestamps and restore points. Holds at most one page and one bounded record state.
import { LifeboatError } from '../../errors/index.js';
import { formatLsn, lsnFromBigInt, type Lsn } from '../lsn.js';
import { DEFAULT_WAL_SEGMENT_SIZE, parseWalSegment, segmentStartLsn, type WalSegmentName } from '../wal-segment.js';
import { readInt32LE, readUint32LE } from './little-endian.js';
import { parsePageHeader } from './parse-page-header.js';
import { pgTimestampToUnixMs, readPgTimestamp } from './pg-timestamp.js';
import { CRC32C_INIT, finishCrc32c, updateCrc32c } from './crc32c.js';
import { parseMainDataLength } from './parse-main-data-length.js';
import { classifyRecord, RecordAssembly, RecordKind } from './record-assembly.js';
import {
  alignRecord,
  MAX_RECORD_BYTES,
  RECORD_CRC_OFFSET,
  RECORD_HEADER_BYTES,
  RESTORE_POINT_MAIN_DATA_BYTES,
  SHORT_PAGE_HEADER_BYTES,
  WAL_PAGE_BYTES,
  walFormatOfMagic,
  XLP_FIRST_IS_CONTRECORD,
  XLP_FIRST_IS_OVERWRITE_CONTRECORD,
  type WalFormat,
} from './wal-format.js';
import type { WalRestorePoint, WalScanCarry, WalScanOptions, WalScanSummary } from './wal-scan-summary.js';

/** A scan of one segment, fed in order. */
export interface WalScanner {
  /** Feeds the segment's next bytes; chunks may have any size. Throws objectCorrupted past the segment size. */
  update(chunk: Uint8Array): void;
  /** Ends the scan: bytes never fed count as missing (like a truncated file). Call once. */
  finish(): WalScanSummary;
}

const TWO_POW_32 = 0x1_0000_0000;
const MIN_SEGMENT_BYTES = 1024 * 1024;
const MAX_SEGMENT_BYTES = 1024 * 1024 * 1024;
const restorePointName = new TextDecoder('utf-8');

/**
 * Starts a scan of `segment`. Pass the previous segment's summary `carry` as `options.continueFrom` to check
 * the link between the two and to count the record crossing the boundary (see WalScanSummary).
 */
export function createWalScanner(segment: WalSegmentName, options: WalScanOptions = {}): WalScanner {
  return new SegmentScan(segment, options);
}

class SegmentScan implements WalScanner {
  private readonly segmentSizeBytes: number;
  private readonly startLsn: Lsn;
  private readonly startHigh: number;
  private readonly startLow: number;
  private readonly pageBuffer = new Uint8Array(WAL_PAGE_BYTES);
  private pageFill = 0;
  private nextPageOffset = 0;
  private bytesReceived = 0;
  private finished = false;
  /** Set once valid WAL ended (invalid data or an XLOG_SWITCH): later bytes are only counted. */
  private ended = false;
  private invalidReason: string | undefined;

  private format: WalFormat | undefined;
  private timeline: number | undefined;
  private systemIdentifier: string | undefined;
  private record: RecordAssembly | undefined;
  private inRecord = false;
  /** True until the first record boundary: a continuation from an unknown record is skipped unchecked. */
  private skipping: boolean;
  /** Start offset of the last complete record (xl_prev of the next one), relative to this segment. */
  private previousRecordOffset: number | undefined;

  private firstRecordOffset = -1;
  private endOffset = 0;
  private xactCount = 0;
  private firstXactMs: number | undefined;
  private lastXactMs: number | undefined;
  private lastXactEndOffset = 0;
  private readonly restorePoints: WalRestorePoint[] = [];
  private switched = false;

  constructor(
    private readonly segment: WalSegmentName,
    options: WalScanOptions,
  ) {
    const size = options.segmentSizeBytes ?? DEFAULT_WAL_SEGMENT_SIZE;
    if (!Number.isInteger(size) || size < MIN_SEGMENT_BYTES || size > MAX_SEGMENT_BYTES || (size & (size - 1)) !== 0) {
      throw new LifeboatError('usage', `${size} is not a wal segment size`, { hint: 'wal_segment_size is a power of two from 1 MiB to 1 GiB' });
    }
    this.segmentSizeBytes = size;
    this.startLsn = segmentStartLsn(segment, size);
    this.startHigh = Number(this.startLsn >> 32n);
    this.startLow = Number(this.startLsn & 0xffffffffn);
    this.skipping = true;
    const carry = options.continueFrom;
    if (carry !== undefined) this.resume(carry);
  }

  update(chunk: Uint8Array): void {
    if (this.finished) throw new LifeboatError('internal', 'wal scanner fed after finish()');
    const room = this.segmentSizeBytes - this.bytesReceived;
    // A plain Uint8Array view (not a Buffer) keeps every page access in the JIT monomorphic.
    const usable = new Uint8Array(chunk.buffer, chunk.byteOffset, Math.min(chunk.length, room));
    this.bytesReceived += usable.length;
    // Scan what fits first: a long page header naming another segment size is the better diagnosis.
    if (!this.ended) this.consume(usable);
    if (usable.length < chunk.length) {
      throw new LifeboatError('objectCorrupted', `wal segment ${this.segment} has more than ${this.segmentSizeBytes} bytes`, {
        hint: "check that the file is a WAL segment and scan with the cluster's wal_segment_size",
      });
    }
  }

  finish(): WalScanSummary {
    if (this.finished) throw new LifeboatError('internal', 'wal scanner finished twice');
    this.finished = true;
    if (!this.ended && this.pageFill > 0) this.processPage(this.pageBuffer.subarray(0, this.pageFill));
    const complete = this.switched || (!this.ended && this.bytesReceived === this.segmentSizeBytes);
    if (!complete && !this.ended) this.invalidReason = `the bytes end at offset ${this.bytesReceived}, before the segment's end`;
    const summary: WalScanSummary = {
      segment: this.segment,
      timeline: this.timeline ?? parseWalSegment(this.segment, this.segmentSizeBytes).timeline,
      endLsn: this.lsnAt(this.endOffset),
      xactCount: this.xactCount,
      restorePoints: this.restorePoints,
      complete,
    };
    if (this.systemIdentifier !== undefined) summary.systemIdentifier = this.systemIdentifier;
    if (this.format !== undefined) summary.pgMajor = this.format.pgMajor;
    if (this.firstRecordOffset >= 0) summary.firstRecordLsn = this.lsnAt(this.firstRecordOffset);
    if (this.firstXactMs !== undefined) summary.firstXactTime = new Date(this.firstXactMs);
    if (this.lastXactMs !== undefined) {
      summary.lastXactTime = new Date(this.lastXactMs);
      summary.lastXactLsn = this.lsnAt(this.lastXactEndOffset);
    }
    if (this.invalidReason !== undefined && !complete) summary.invalidReason = this.invalidReason;
    if (complete) summary.carry = this.carry();
    return summary;
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
    // With a known record boundary behind us, a continuation must belong to the pending record.
    this.skipping = carry.lastRecordLsn === undefined && carry.pendingRecord === undefined;
  }

  private carry(): WalScanCarry {
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

  /** Cuts `chunk` into whole pages, buffering only a page split between chunks. */
  private consume(chunk: Uint8Array): void {
    let offset = 0;
    if (this.pageFill > 0) {
      offset = Math.min(WAL_PAGE_BYTES - this.pageFill, chunk.length);
      this.pageBuffer.set(chunk.subarray(0, offset), this.pageFill);
      this.pageFill += offset;
      if (this.pageFill < WAL_PAGE_BYTES) return;
      this.pageFill = 0;
      this.processPage(this.pageBuffer);
    }
    while (!this.ended && chunk.length - offset >= WAL_PAGE_BYTES) {
      this.processPage(chunk.subarray(offset, offset + WAL_PAGE_BYTES));
      offset += WAL_PAGE_BYTES;
    }
    if (!this.ended && offset < chunk.length) {
      this.pageBuffer.set(chunk.subarray(offset), 0);
      this.pageFill = chunk.length - offset;
    }
  }

  /** Validates one page (a last partial page may be shorter) and walks the records on it. */
  private processPage(page: Uint8Array): void {
    const pageOffset = this.nextPageOffset;
    this.nextPageOffset += WAL_PAGE_BYTES;
    // A page cut inside its short header is missing data, which finish() reports.
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
        // Crash recovery gave up on the unfinished record and wrote new WAL over its missing tail.
        this.inRecord = false;
      } else if (!continued) {
        return this.end(`there is no contrecord flag at ${formatLsn(this.lsnAt(pageOffset + position))}`);
      } else if (header.remainingLength === 0 || header.remainingLength !== pending.remainingBytes) {
        return this.end(`invalid contrecord length ${header.remainingLength} (expected ${pending.remainingBytes}) at ${formatLsn(this.lsnAt(pageOffset + position))}`);
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
      return this.end(`contrecord is requested by ${formatLsn(this.lsnAt(pageOffset + position))}`);
    }
    this.walkRecords(page, pageOffset, position, header.format);
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
   * The common case, a record wholly on this page, checked and read in place without copying; returns the
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
    if (totalLength > MAX_RECORD_BYTES) return `record length ${totalLength} at ${formatLsn(this.lsnAt(startOffset))} too long`;
    if (this.previousRecordOffset === undefined) return undefined;
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
    return `record with incorrect prev-link ${prev} at ${formatLsn(this.lsnAt(startOffset))}`;
  }

  /**
   * Accounts a CRC-checked record of `kind` spanning [startOffset, endOffset) (end MAXALIGNed), whose main
   * data (or its first 72 bytes) is at `main[mainStart]`, `mainDataLength` long (-1 if unknown).
   */
  private completeRecord(kind: RecordKind, startOffset: number, endOffset: number, main: Uint8Array, mainStart: number, mainDataLength: number): void {
    if (mainDataLength < 0 && (kind === RecordKind.xactEnd || kind === RecordKind.restorePoint)) {
      // DecodeXLogRecord rejects a header area that does not add up, so valid WAL ends before this record.
      return this.end(`record with invalid length at ${formatLsn(this.lsnAt(startOffset))}`);
    }
    if (startOffset >= 0 && this.firstRecordOffset < 0) this.firstRecordOffset = startOffset;
    this.previousRecordOffset = startOffset;
    this.endOffset = endOffset;
    switch (kind) {
      case RecordKind.xactEnd:
        // xl_xact_commit and xl_xact_abort both start with TimestampTz xact_time.
        if (mainDataLength < 8) return;
        this.lastXactMs = pgTimestampToUnixMs(readInt32LE(main, mainStart + 4), readUint32LE(main, mainStart));
        this.firstXactMs ??= this.lastXactMs;
        this.lastXactEndOffset = endOffset;
        this.xactCount += 1;
        return;
      case RecordKind.restorePoint: {
        if (mainDataLength < RESTORE_POINT_MAIN_DATA_BYTES) return;
        const nameBytes = main.subarray(mainStart + 8, mainStart + RESTORE_POINT_MAIN_DATA_BYTES);
        const nul = nameBytes.indexOf(0);
        this.restorePoints.push({
          name: restorePointName.decode(nul < 0 ? nameBytes : nameBytes.subarray(0, nul)),
          time: readPgTimestamp(main, mainStart),
          lsn: this.lsnAt(endOffset),
        });
        return;
      }
      case RecordKind.walSwitch:
        // The rest of the segment is zero padding that belongs to the switch record (xlogreader's "pretend").
        this.switched = true;
        this.endOffset = this.segmentSizeBytes;
        this.ended = true;
        return;
      default:
        return;
    }
  }

  private shortRecordReason(startOffset: number, totalLength: number): string {
    return `invalid record length at ${formatLsn(this.lsnAt(startOffset))}: expected at least ${RECORD_HEADER_BYTES}, got ${totalLength}`;
  }

  private crcReason(startOffset: number): string {
    return `incorrect resource manager data checksum in record at ${formatLsn(this.lsnAt(startOffset))}`;
  }

  private end(reason: string): void {
    this.ended = true;
    this.inRecord = false;
    this.invalidReason = reason;
  }

  private lsnAt(offset: number): Lsn {
    return lsnFromBigInt(this.startLsn + BigInt(offset));
  }
}
