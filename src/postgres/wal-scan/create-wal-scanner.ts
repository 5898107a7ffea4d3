// The streaming WAL segment scanner: takes a segment's bytes in chunks of any size (as they flow through an
// upload pipeline), cuts them into pages for the SegmentWalk and sums up at the end. Holds at most one page
// and one bounded record state, whatever the segment or record sizes.
import { LifeboatError } from '../../errors/index.js';
import { DEFAULT_WAL_SEGMENT_SIZE, parseWalSegment, segmentStartLsn, type WalSegmentName } from '../wal-segment.js';
import { SegmentWalk } from './segment-walk.js';
import { WAL_PAGE_BYTES } from './wal-format.js';
import type { WalScanOptions, WalScanSummary } from './wal-scan-summary.js';

/** A scan of one segment, fed in order. */
export interface WalScanner {
  /** Feeds the segment's next bytes; chunks may have any size. Throws objectCorrupted past the segment size. */
  update(chunk: Uint8Array): void;
  /** Ends the scan: bytes never fed count as missing (like a truncated file). Call once. */
  finish(): WalScanSummary;
  /** True once valid WAL has ended: later bytes are ignored, so a reader may stop feeding (and reading) them. */
  readonly ended: boolean;
}

const MIN_SEGMENT_BYTES = 1024 * 1024;
const MAX_SEGMENT_BYTES = 1024 * 1024 * 1024;

/**
 * Starts a scan of `segment`. Pass the previous segment's summary `carry` as `options.continueFrom` to check
 * the link between the two and to count the record crossing the boundary (see WalScanSummary). Throws a
 * usage error for a segment size that is not a power of two from 1 MiB to 1 GiB.
 */
export function createWalScanner(segment: WalSegmentName, options: WalScanOptions = {}): WalScanner {
  return new ChunkedScan(segment, options);
}

class ChunkedScan implements WalScanner {
  private readonly segmentSizeBytes: number;
  private readonly walk: SegmentWalk;
  private readonly pageBuffer = new Uint8Array(WAL_PAGE_BYTES);
  private pageFill = 0;
  private bytesReceived = 0;
  private finished = false;

  constructor(
    private readonly segment: WalSegmentName,
    options: WalScanOptions,
  ) {
    const size = options.segmentSizeBytes ?? DEFAULT_WAL_SEGMENT_SIZE;
    if (!Number.isInteger(size) || size < MIN_SEGMENT_BYTES || size > MAX_SEGMENT_BYTES || (size & (size - 1)) !== 0) {
      throw new LifeboatError('usage', `${size} is not a wal segment size`, { hint: 'wal_segment_size is a power of two from 1 MiB to 1 GiB' });
    }
    this.segmentSizeBytes = size;
    this.walk = new SegmentWalk(segment, segmentStartLsn(segment, size), size, options.continueFrom);
  }

  get ended(): boolean {
    return this.walk.ended;
  }

  update(chunk: Uint8Array): void {
    if (this.finished) throw new LifeboatError('internal', 'wal scanner fed after finish()');
    const room = this.segmentSizeBytes - this.bytesReceived;
    // A plain Uint8Array view (not a Buffer) keeps every page access in the JIT monomorphic.
    const usable = new Uint8Array(chunk.buffer, chunk.byteOffset, Math.min(chunk.length, room));
    this.bytesReceived += usable.length;
    // Scan what fits first: a long page header naming another segment size is the better diagnosis.
    if (!this.walk.ended) this.cutIntoPages(usable);
    if (usable.length < chunk.length) {
      throw new LifeboatError('objectCorrupted', `wal segment ${this.segment} has more than ${this.segmentSizeBytes} bytes`, {
        hint: "check that the file is a WAL segment and scan with the cluster's wal_segment_size",
      });
    }
  }

  finish(): WalScanSummary {
    if (this.finished) throw new LifeboatError('internal', 'wal scanner finished twice');
    this.finished = true;
    const walk = this.walk;
    if (!walk.ended && this.pageFill > 0) walk.processPage(this.pageBuffer.subarray(0, this.pageFill));
    const complete = walk.switched || (!walk.ended && this.bytesReceived === this.segmentSizeBytes);
    const summary: WalScanSummary = {
      segment: this.segment,
      timeline: walk.timeline ?? parseWalSegment(this.segment, this.segmentSizeBytes).timeline,
      endLsn: walk.lsnAt(walk.endOffset),
      xactCount: 0,
      restorePoints: [],
      complete,
    };
    walk.tally.writeTo(summary);
    if (walk.systemIdentifier !== undefined) summary.systemIdentifier = walk.systemIdentifier;
    if (walk.format !== undefined) summary.pgMajor = walk.format.pgMajor;
    if (walk.firstRecordOffset >= 0) summary.firstRecordLsn = walk.lsnAt(walk.firstRecordOffset);
    if (complete) {
      summary.carry = walk.carry();
    } else {
      summary.invalidReason = walk.invalidReason ?? `the bytes end at offset ${this.bytesReceived}, before the segment's end`;
    }
    return summary;
  }

  /** Hands whole pages to the walk, buffering only a page split between chunks. */
  private cutIntoPages(chunk: Uint8Array): void {
    let offset = 0;
    if (this.pageFill > 0) {
      offset = Math.min(WAL_PAGE_BYTES - this.pageFill, chunk.length);
      this.pageBuffer.set(chunk.subarray(0, offset), this.pageFill);
      this.pageFill += offset;
      if (this.pageFill < WAL_PAGE_BYTES) return;
      this.pageFill = 0;
      this.walk.processPage(this.pageBuffer);
    }
    while (!this.walk.ended && chunk.length - offset >= WAL_PAGE_BYTES) {
      this.walk.processPage(chunk.subarray(offset, offset + WAL_PAGE_BYTES));
      offset += WAL_PAGE_BYTES;
    }
    if (!this.walk.ended && offset < chunk.length) {
      this.pageBuffer.set(chunk.subarray(offset), 0);
      this.pageFill = chunk.length - offset;
    }
  }
}
