// The WAL scan capability: learn from a segment's bytes alone (no pg_waldump, no server) where its valid WAL
// ends and which commit/abort timestamps and restore points it holds, for the catalog and restore planning.
export { createWalScanner, type WalScanner } from './create-wal-scanner.js';
export { scanWalSegment } from './scan-wal-segment.js';
export type { WalRestorePoint, WalScanCarry, WalScanOptions, WalScanSummary } from './wal-scan-summary.js';
