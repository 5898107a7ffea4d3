// Ships every completed segment and history file in the spool, oldest first, and the partials pg_receivewal
// left behind on older timelines. After each segment is durable: its partials are deleted, the spool copy is
// removed, and the caller moves the guard slot past it (in that order, so that a crash between steps repeats
// work instead of losing WAL).
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { EncryptionSession } from '../../crypto/index.js';
import { isLifeboatError } from '../../errors/index.js';
import { writeObject } from '../../pipeline/index.js';
import { segmentStartLsn, type Lsn, type WalSegmentName } from '../../postgres/index.js';
import { walHistoryKey, type Storage } from '../../storage/index.js';
import { readSpool } from './read-spool.js';
import { deletePartials, shipPartial } from './ship-partial.js';
import { shipSegment, type ShippedSegment } from './ship-segment.js';

export interface ShipSpoolOptions {
  storage: Storage;
  cluster: string;
  session: EncryptionSession;
  compression: { algorithm: 'zstd' | 'gzip' | 'none'; level: number };
  spoolDir: string;
  segmentSizeBytes: number;
  /** Called once a segment is durable and gone from the spool, with the LSN where it ends. */
  onShipped(shipped: ShippedSegment, endLsn: Lsn): Promise<void>;
  signal: AbortSignal;
}

/** Returns the number of segments shipped. */
export async function shipSpool(options: ShipSpoolOptions): Promise<number> {
  const { storage, cluster, spoolDir, signal } = options;
  const spool = await readSpool(spoolDir);
  for (const history of spool.histories) {
    const timeline = Number.parseInt(history.slice(0, 8), 16);
    const bytes = await readFile(join(spoolDir, history));
    try {
      await writeObject({ storage, key: walHistoryKey(cluster, timeline), source: Readable.from([bytes]), compression: options.compression, session: options.session, createOnly: true, signal });
    } catch (error) {
      // History files are written once per timeline by the server; an existing one is the same file.
      if (!isLifeboatError(error, 'objectExists')) throw error;
    }
    await rm(join(spoolDir, history));
  }
  for (const segment of spool.stalePartials) {
    await shipPartial({ ...options, segment, previousEndLsn: undefined });
    await rm(join(spoolDir, `${segment}.partial`));
  }
  for (const segment of spool.segments) {
    const shipped = await shipSegment({ ...options, segment });
    await deletePartials(storage, cluster, segment, signal);
    await rm(join(spoolDir, segment));
    await options.onShipped(shipped, endOfSegment(segment, options.segmentSizeBytes));
  }
  return spool.segments.length;
}

function endOfSegment(segment: WalSegmentName, segmentSizeBytes: number): Lsn {
  return (segmentStartLsn(segment, segmentSizeBytes) + BigInt(segmentSizeBytes)) as Lsn;
}
