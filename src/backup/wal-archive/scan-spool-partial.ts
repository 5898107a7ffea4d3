// Where the valid WAL of the spool's growing head partial ends, read in small blocks rather than whole: the file
// is a full segment (16 MiB, pg_receivewal pre-fills it with zeros) read every partial interval and every 100 ms
// while catching up at a stop, and reading it whole was the largest allocation the long-running archiver made.
// The scan stops where valid WAL ends, so the zeros after it are not even read.
import { join } from 'node:path';
import { fileSource } from '../../pipeline/index.js';
import { segmentStartLsn, type WalSegmentName } from '../../postgres/index.js';
import { createWalScanner, type WalScanSummary } from '../../postgres/wal-scan/index.js';

/** Read size of the scan: 32 WAL pages; one buffer for the whole scan. */
const SCAN_READ_BYTES = 256 * 1024;

export interface ScannedPartial {
  summary: WalScanSummary;
  /** Bytes of the file that hold valid WAL (from the segment's start to summary.endLsn). */
  validBytes: number;
}

/** Scans `<segment>.partial` in `spoolDir`; undefined when it is gone (pg_receivewal completed and renamed it). */
export async function scanSpoolPartial(spoolDir: string, segment: WalSegmentName, segmentSizeBytes: number, signal?: AbortSignal): Promise<ScannedPartial | undefined> {
  const source = fileSource(join(spoolDir, `${segment}.partial`));
  const scanner = createWalScanner(segment, { segmentSizeBytes });
  const buffer = Buffer.allocUnsafeSlow(SCAN_READ_BYTES);
  try {
    for (;;) {
      signal?.throwIfAborted();
      const length = await source.readInto(buffer);
      if (length > 0) scanner.update(buffer.subarray(0, length));
      if (length < buffer.length || scanner.ended) break;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  } finally {
    await source.close();
  }
  const summary = scanner.finish();
  return { summary, validBytes: Number(summary.endLsn - segmentStartLsn(segment, segmentSizeBytes)) };
}
