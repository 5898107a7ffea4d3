// Uploads the growing head segment as a partial named by where its valid WAL ends, so the recoverable point
// trails the primary by at most the upload interval. Older partials of the segment go once the new one is durable.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { EncryptionSession } from '../../crypto/index.js';
import { writeObject } from '../../pipeline/index.js';
import { segmentStartLsn, type Lsn, type WalSegmentName } from '../../postgres/index.js';
import { scanWalSegment } from '../../postgres/wal-scan/index.js';
import { formatLsnHex } from '../../repository/list-archived-wal.js';
import { parseWalKey, walPartialKey, walPrefix, type Storage } from '../../storage/index.js';

export interface ShipPartialOptions {
  storage: Storage;
  cluster: string;
  session: EncryptionSession;
  compression: { algorithm: 'zstd' | 'gzip' | 'none'; level: number };
  spoolDir: string;
  segment: WalSegmentName;
  segmentSizeBytes: number;
  /** End LSN of the last partial uploaded for this segment; nothing is uploaded unless WAL grew past it. */
  previousEndLsn: Lsn | undefined;
  signal: AbortSignal;
}

/** Returns the new end LSN when a partial was uploaded, else undefined. */
export async function shipPartial(options: ShipPartialOptions): Promise<Lsn | undefined> {
  const { storage, cluster, segment, signal } = options;
  // A partial is at most one segment (16 MiB by default): reading it whole keeps the scan and upload consistent.
  const bytes = await readFile(join(options.spoolDir, `${segment}.partial`), { signal });
  const summary = scanWalSegment(bytes, segment, { segmentSizeBytes: options.segmentSizeBytes });
  const endLsn = summary.endLsn;
  if (endLsn <= segmentStartLsn(segment, options.segmentSizeBytes)) return undefined;
  if (options.previousEndLsn !== undefined && endLsn <= options.previousEndLsn) return undefined;
  const key = walPartialKey(cluster, segment, formatLsnHex(endLsn));
  await writeObject({ storage, key, source: Readable.from([bytes]), compression: options.compression, session: options.session, signal });
  await deletePartials(storage, cluster, segment, signal, key);
  return endLsn;
}

/** Delete stored partials of `segment`, except `keep`. */
export async function deletePartials(storage: Storage, cluster: string, segment: WalSegmentName, signal: AbortSignal, keep?: string): Promise<void> {
  const timeline = Number.parseInt(segment.slice(0, 8), 16);
  const stale: string[] = [];
  for await (const object of storage.list(`${walPrefix(cluster, timeline)}${segment}.partial-`, { signal })) {
    if (object.key !== keep && parseWalKey(object.key)?.kind === 'partial') stale.push(object.key);
  }
  if (stale.length > 0) await storage.delete(stale, { signal });
}
