// What WAL a repository holds for one cluster, built from a listing alone: complete segments (named with their
// checksum), partial head segments (named with their end LSN) and timeline history files.
import { LifeboatError } from '../errors/index.js';
import { parseWalKey, walRootPrefix, type Storage } from '../storage/index.js';
import { lsnFromBigInt, toTimelineId, type Lsn, type TimelineId, type WalSegmentName } from '../postgres/index.js';

export interface ArchivedSegment {
  segment: WalSegmentName;
  key: string;
  /** SHA-256 of the segment's content (from its key). */
  sha256: string;
  storedSizeBytes: number;
}

export interface ArchivedPartial {
  segment: WalSegmentName;
  key: string;
  /** WAL in this partial is valid up to here (exclusive). */
  endLsn: Lsn;
  storedSizeBytes: number;
}

export interface ArchivedWal {
  /** Complete segments by name. Two different checksums under one name is reported, never resolved silently. */
  segments: Map<WalSegmentName, ArchivedSegment>;
  /** Every partial, grouped by segment, newest (highest end LSN) last. */
  partials: Map<WalSegmentName, ArchivedPartial[]>;
  /** History file keys by timeline. */
  histories: Map<TimelineId, string>;
  /** When the newest segment or partial was stored (the storage's last-modified time); absent when none is. */
  newestStoredTime?: Date;
}

export async function listArchivedWal(storage: Storage, cluster: string, signal?: AbortSignal): Promise<ArchivedWal> {
  const result: ArchivedWal = { segments: new Map(), partials: new Map(), histories: new Map() };
  for await (const object of storage.list(walRootPrefix(cluster), { signal })) {
    const parsed = parseWalKey(object.key);
    if (!parsed) continue;
    if (parsed.kind !== 'history' && (!result.newestStoredTime || object.lastModified > result.newestStoredTime)) result.newestStoredTime = object.lastModified;
    if (parsed.kind === 'segment') {
      const segment = parsed.segmentName as WalSegmentName;
      const existing = result.segments.get(segment);
      if (existing && existing.sha256 !== parsed.sha256) {
        throw new LifeboatError('objectCorrupted', `WAL segment ${segment} is stored twice with different contents (${existing.key}, ${object.key})`, {
          hint: 'two different clusters or timelines wrote the same segment name; verify which one belongs to this cluster and remove the other',
        });
      }
      result.segments.set(segment, { segment, key: object.key, sha256: parsed.sha256, storedSizeBytes: object.sizeBytes });
    } else if (parsed.kind === 'partial') {
      const segment = parsed.segmentName as WalSegmentName;
      const list = result.partials.get(segment) ?? [];
      list.push({ segment, key: object.key, endLsn: lsnFromBigInt(BigInt(`0x${parsed.endLsnHex}`)), storedSizeBytes: object.sizeBytes });
      list.sort((a, b) => (a.endLsn < b.endLsn ? -1 : a.endLsn > b.endLsn ? 1 : 0));
      result.partials.set(segment, list);
    } else {
      result.histories.set(toTimelineId(parsed.timeline), object.key);
    }
  }
  return result;
}

/** 16 upper-case hex digits of an LSN, as used in partial keys. */
export function formatLsnHex(lsn: Lsn): string {
  return lsn.toString(16).toUpperCase().padStart(16, '0');
}
