// Scans a whole WAL segment held in memory: the buffer form of the streaming scanner, for segments already
// read (catalog refresh, restore planning). The archiver uses createWalScanner on bytes as they stream by.
import type { WalSegmentName } from '../wal-segment.js';
import { createWalScanner } from './create-wal-scanner.js';
import type { WalScanOptions, WalScanSummary } from './wal-scan-summary.js';

export type { WalRestorePoint, WalScanCarry, WalScanOptions, WalScanSummary } from './wal-scan-summary.js';

/**
 * What `bytes`, the contents of segment `segment` (possibly a zero-padded `.partial` or truncated copy),
 * hold: where valid WAL ends, commit/abort timestamps and restore points. Never throws for bad content:
 * invalid WAL just ends the scan (see WalScanSummary.invalidReason). Throws a usage error when the page
 * headers record another segment size than `options.segmentSizeBytes` (default 16 MiB), and
 * objectCorrupted when `bytes` is longer than a segment.
 */
export function scanWalSegment(bytes: Uint8Array, segment: WalSegmentName, options: WalScanOptions = {}): WalScanSummary {
  const scanner = createWalScanner(segment, options);
  scanner.update(bytes);
  return scanner.finish();
}
