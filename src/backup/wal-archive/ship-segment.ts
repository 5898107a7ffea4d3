// Ships one completed WAL segment from the spool: named by the SHA-256 of its content, create-only. The same
// checksum already stored is success (a re-push after a crash); a different one is a hard error, never retried,
// because two different histories under one segment name means the archive would lie.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { EncryptionSession } from '../../crypto/index.js';
import { LifeboatError, isLifeboatError } from '../../errors/index.js';
import { fileSource, writeObject } from '../../pipeline/index.js';
import type { WalSegmentName } from '../../postgres/index.js';
import { parseWalKey, walPrefix, walSegmentKey, type Storage } from '../../storage/index.js';

export interface ShipSegmentOptions {
  storage: Storage;
  cluster: string;
  session: EncryptionSession;
  compression: { algorithm: 'zstd' | 'gzip' | 'none'; level: number };
  spoolDir: string;
  segment: WalSegmentName;
  signal: AbortSignal;
}

export interface ShippedSegment {
  segment: WalSegmentName;
  sha256: string;
  /** False when an identical copy was already stored. */
  uploaded: boolean;
  storedSizeBytes: number;
}

/** Read size when hashing a segment: one buffer per segment instead of 256 stream chunks of 64 KiB. */
const HASH_READ_BYTES = 1024 * 1024;

async function sha256OfFile(path: string, signal: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  const source = fileSource(path);
  const buffer = Buffer.allocUnsafeSlow(HASH_READ_BYTES);
  try {
    for (;;) {
      signal.throwIfAborted();
      const length = await source.readInto(buffer);
      hash.update(buffer.subarray(0, length));
      if (length < buffer.length) return hash.digest('hex');
    }
  } finally {
    await source.close();
  }
}

/** Stored checksums of `segment` (normally none or one). */
async function storedChecksums(storage: Storage, cluster: string, segment: WalSegmentName, signal: AbortSignal): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  const timeline = Number.parseInt(segment.slice(0, 8), 16);
  for await (const object of storage.list(`${walPrefix(cluster, timeline)}${segment}-`, { signal })) {
    const parsed = parseWalKey(object.key);
    if (parsed?.kind === 'segment' && parsed.segmentName === segment) found.set(parsed.sha256, object.sizeBytes);
  }
  return found;
}

function conflict(segment: string, ours: string, theirs: string): LifeboatError {
  return new LifeboatError(
    'objectExists',
    `WAL segment ${segment} is already archived with different content (stored sha256 ${theirs.slice(0, 12)}..., this one ${ours.slice(0, 12)}...)`,
    { hint: 'another cluster or an old timeline is writing under this cluster name; stop the archiver and check clusters[].name and the system identifier' },
  );
}

export async function shipSegment(options: ShipSegmentOptions): Promise<ShippedSegment> {
  const { storage, cluster, segment, signal } = options;
  const path = join(options.spoolDir, segment);
  const sha256 = await sha256OfFile(path, signal);
  const check = async (): Promise<ShippedSegment | undefined> => {
    const stored = await storedChecksums(storage, cluster, segment, signal);
    const same = stored.get(sha256);
    if (same !== undefined) return { segment, sha256, uploaded: false, storedSizeBytes: same };
    const other = [...stored.keys()][0];
    if (other !== undefined) throw conflict(segment, sha256, other);
    return undefined;
  };
  const already = await check();
  if (already) return already;
  try {
    const stored = await writeObject({
      storage,
      key: walSegmentKey(cluster, segment, sha256),
      source: fileSource(path),
      compression: options.compression,
      session: options.session,
      createOnly: true,
      signal,
    });
    return { segment, sha256, uploaded: true, storedSizeBytes: stored.storedSizeBytes };
  } catch (error) {
    // A concurrent archiver stored it between our check and our write: judge by its checksum.
    if (isLifeboatError(error, 'objectExists')) {
      const raced = await check();
      if (raced) return raced;
    }
    throw error;
  }
}
