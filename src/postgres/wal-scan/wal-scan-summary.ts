// What scanning one WAL segment tells: its identity, where valid WAL ends, the commit/abort timestamps and
// named restore points in it, and the state a scan of the next segment needs to finish a record that
// crosses the boundary.
import type { Lsn } from '../lsn.js';
import type { WalSegmentName } from '../wal-segment.js';
import type { RecordAssembly } from './record-assembly.js';

/** A named restore point (pg_create_restore_point). */
export interface WalRestorePoint {
  name: string;
  /** rp_time, truncated to the millisecond. */
  time: Date;
  /** End of the record, MAXALIGNed: the value pg_create_restore_point() returned and recovery_target_name stops at. */
  lsn: Lsn;
}

/**
 * The result of scanning one segment's bytes. All LSNs that end a record are PostgreSQL's "end of record"
 * (EndRecPtr): MAXALIGNed, where the next record begins (before the next page header, if at a page end).
 *
 * A record is reported by the segment in which it ENDS: that is where its main data (and timestamp) is and
 * the segment recovery needs to replay it. A record crossing into this segment from the previous one is
 * only seen when that scan's {@link WalScanSummary.carry} is passed as `continueFrom`; without it, its tail is
 * skipped, as pg_waldump does when started at a segment.
 */
export interface WalScanSummary {
  /** The segment name given. */
  segment: WalSegmentName;
  /** xlp_tli of the last valid page (never decreases within valid WAL); the name's timeline when no page is valid. */
  timeline: number;
  /** Cluster system identifier from the first page's long header (decimal), when that page is valid. */
  systemIdentifier?: string;
  /** PostgreSQL major version whose WAL format the pages carry (from xlp_magic), when a page is valid. */
  pgMajor?: number;
  /** Start of the first valid record that starts in this segment. */
  firstRecordLsn?: Lsn;
  /**
   * Where valid WAL stops: the end of the last complete, CRC-checked record in the segment (the segment end
   * after an XLOG_SWITCH record). When no record ends here: the end of the skipped continuation, else the
   * segment start. A complete segment's last record may run into the next segment; endLsn is then before it.
   */
  endLsn: Lsn;
  /** xact_time of the first commit/abort record (in WAL order), truncated to the millisecond. */
  firstXactTime?: Date;
  /** xact_time of the last commit/abort record (in WAL order; commit times are not strictly monotonic). */
  lastXactTime?: Date;
  /** End of the record holding lastXactTime: replaying up to here includes that transaction's outcome. */
  lastXactLsn?: Lsn;
  /** Commit, commit-prepared, abort and abort-prepared records. */
  xactCount: number;
  /** XLOG_RESTORE_POINT records, in WAL order. */
  restorePoints: WalRestorePoint[];
  /** True when valid WAL runs to the end of the segment (or an XLOG_SWITCH ended it): no zero or recycled tail. */
  complete: boolean;
  /** Why valid WAL stops early (zero record length, CRC mismatch, unexpected pageaddr...); absent when complete. */
  invalidReason?: string;
  /** Hand-over for scanning the next segment; present when complete. */
  carry?: WalScanCarry;
}

/**
 * What a complete segment's scan hands to the scan of the following segment (same or next timeline): enough
 * to check the next record's xl_prev link and to finish, CRC-check and report a record running across the
 * boundary. In-memory only (holds a bounded record state, under 3 KiB); treat as opaque.
 */
export interface WalScanCarry {
  /** The first LSN of the segment this carry continues into. */
  readonly nextSegmentStartLsn: Lsn;
  /** xlp_magic of the pages so far; the next segment must carry the same. */
  readonly magic: number;
  /** xlp_tli of the last page; the next segment's pages must not go below it. */
  readonly timeline: number;
  /** The cluster's system identifier, when the segment's first page was valid; the next one must match. */
  readonly systemIdentifier?: string;
  /** Start of the last complete record, which the next record's xl_prev must name. */
  readonly lastRecordLsn?: Lsn;
  /** The record that began before the boundary and is not finished, when there is one. */
  readonly pendingRecord?: RecordAssembly;
}

/** Options of a segment scan. */
export interface WalScanOptions {
  /** wal_segment_size of the cluster, in bytes: a power of two from 1 MiB to 1 GiB. Default 16 MiB. */
  segmentSizeBytes?: number;
  /** The previous segment's `carry`, to verify and count the record crossing into this segment. */
  continueFrom?: WalScanCarry;
}
