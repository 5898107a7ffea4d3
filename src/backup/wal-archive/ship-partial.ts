// Uploads the growing head segment as a partial named by where its valid WAL ends, so the recoverable point
// trails the primary by at most the upload interval. Older partials of the segment go once the new one is durable.
import { join } from 'node:path';
import type { EncryptionSession } from '../../crypto/index.js';
import { writeObject } from '../../pipeline/index.js';
import { lsnFromBigInt, type Lsn, type WalSegmentName } from '../../postgres/index.js';
import { formatLsnHex } from '../../repository/list-archived-wal.js';
import { parseWalKey, walPartialKey, walPrefix, type Storage } from '../../storage/index.js';
import { zeroPaddedPrefixSource } from './partial-source.js';
import { scanSpoolPartial } from './scan-spool-partial.js';

export interface ShipPartialOptions {
  storage: Storage;
  cluster: string;
  session: EncryptionSession;
  compression: { algorithm: 'zstd' | 'gzip' | 'none'; level: number };
  spoolDir: string;
  segment: WalSegmentName;
  segmentSizeBytes: number;
  /**
   * End LSN of the newest partial of this segment known to be stored; nothing is uploaded unless WAL grew past
   * it. Undefined: look it up in the repository (after a restart, a re-streamed head must not replace a longer
   * partial with a shorter one).
   */
  previousEndLsn: Lsn | undefined;
  signal: AbortSignal;
}

export interface ShippedPartial {
  /** End of the newest stored partial of the segment: the one just uploaded, or a longer one already there. */
  endLsn: Lsn;
  uploaded: boolean;
}

/** Uploads the head partial if it holds more WAL than what is stored; undefined when it holds no valid WAL yet. */
export async function shipPartial(options: ShipPartialOptions): Promise<ShippedPartial | undefined> {
  const { storage, cluster, segment, signal } = options;
  const scanned = await scanSpoolPartial(options.spoolDir, segment, options.segmentSizeBytes, signal);
  // Gone (pg_receivewal completed and renamed it since the spool was read: it ships as a segment instead), or no
  // WAL written into it yet.
  if (scanned === undefined || scanned.validBytes <= 0) return undefined;
  const endLsn = scanned.summary.endLsn;
  const previous = options.previousEndLsn ?? (await newestStoredPartial(storage, cluster, segment, signal));
  if (previous !== undefined && endLsn <= previous) return { endLsn: previous, uploaded: false };
  const key = walPartialKey(cluster, segment, formatLsnHex(endLsn));
  const source = zeroPaddedPrefixSource(join(options.spoolDir, `${segment}.partial`), scanned.validBytes, options.segmentSizeBytes);
  await writeObject({ storage, key, source, compression: options.compression, session: options.session, signal });
  await deletePartials(storage, cluster, segment, signal, key);
  return { endLsn, uploaded: true };
}

async function newestStoredPartial(storage: Storage, cluster: string, segment: WalSegmentName, signal: AbortSignal): Promise<Lsn | undefined> {
  let newest: Lsn | undefined;
  for await (const object of storage.list(partialsPrefix(cluster, segment), { signal })) {
    const parsed = parseWalKey(object.key);
    if (parsed?.kind !== 'partial') continue;
    const endLsn = lsnFromBigInt(BigInt(`0x${parsed.endLsnHex}`));
    if (newest === undefined || endLsn > newest) newest = endLsn;
  }
  return newest;
}

function partialsPrefix(cluster: string, segment: WalSegmentName): string {
  return `${walPrefix(cluster, Number.parseInt(segment.slice(0, 8), 16))}${segment}.partial-`;
}

/** Delete stored partials of `segment`, except `keep`. */
export async function deletePartials(storage: Storage, cluster: string, segment: WalSegmentName, signal: AbortSignal, keep?: string): Promise<void> {
  const stale: string[] = [];
  for await (const object of storage.list(partialsPrefix(cluster, segment), { signal })) {
    if (object.key !== keep && parseWalKey(object.key)?.kind === 'partial') stale.push(object.key);
  }
  if (stale.length > 0) await storage.delete(stale, { signal });
}
