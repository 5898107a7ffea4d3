// What the CRC-checked records of a scan mean for recovery targets: commit/abort timestamps (first, last,
// count) and named restore points, with the end LSNs recovery stops at. Kept apart from the page walk, which
// is about validity; this is about meaning.
import type { Lsn } from '../lsn.js';
import { readInt32LE, readUint32LE } from './little-endian.js';
import { pgTimestampToUnixMs, readPgTimestamp } from './pg-timestamp.js';
import { RESTORE_POINT_MAIN_DATA_BYTES } from './wal-format.js';
import type { WalRestorePoint, WalScanSummary } from './wal-scan-summary.js';

const restorePointName = new TextDecoder('utf-8');

/** Running totals of one segment scan; offsets are bytes from the segment start. */
export class WalScanTally {
  private xactCount = 0;
  private firstXactMs: number | undefined;
  private lastXactMs: number | undefined;
  private lastXactEndOffset = 0;
  private readonly restorePoints: WalRestorePoint[] = [];

  /** @param lsnAt the LSN of an offset in the scanned segment. */
  constructor(private readonly lsnAt: (offset: number) => Lsn) {}

  /**
   * A commit, commit-prepared, abort or abort-prepared record ending (MAXALIGNed) at `endOffset`, whose main
   * data (`mainDataLength` bytes, or its first 72) is at `main[mainStart]`.
   */
  addTransactionEnd(main: Uint8Array, mainStart: number, mainDataLength: number, endOffset: number): void {
    // xl_xact_commit and xl_xact_abort both start with TimestampTz xact_time.
    if (mainDataLength < 8) return;
    this.lastXactMs = pgTimestampToUnixMs(readInt32LE(main, mainStart + 4), readUint32LE(main, mainStart));
    this.firstXactMs ??= this.lastXactMs;
    this.lastXactEndOffset = endOffset;
    this.xactCount += 1;
  }

  /** An XLOG_RESTORE_POINT record (main data xl_restore_point: rp_time, rp_name[64]) ending at `endOffset`. */
  addRestorePoint(main: Uint8Array, mainStart: number, mainDataLength: number, endOffset: number): void {
    if (mainDataLength < RESTORE_POINT_MAIN_DATA_BYTES) return;
    const nameBytes = main.subarray(mainStart + 8, mainStart + RESTORE_POINT_MAIN_DATA_BYTES);
    const nul = nameBytes.indexOf(0);
    this.restorePoints.push({
      name: restorePointName.decode(nul < 0 ? nameBytes : nameBytes.subarray(0, nul)),
      time: readPgTimestamp(main, mainStart),
      lsn: this.lsnAt(endOffset),
    });
  }

  /** Writes the totals into `summary`. */
  writeTo(summary: WalScanSummary): void {
    summary.xactCount = this.xactCount;
    summary.restorePoints = [...this.restorePoints];
    if (this.firstXactMs !== undefined) summary.firstXactTime = new Date(this.firstXactMs);
    if (this.lastXactMs !== undefined) {
      summary.lastXactTime = new Date(this.lastXactMs);
      summary.lastXactLsn = this.lsnAt(this.lastXactEndOffset);
    }
  }
}
