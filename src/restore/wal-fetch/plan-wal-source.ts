// Decides what `wal fetch` serves for a name PostgreSQL asks for, from a listing of the repository alone: the
// complete segment (its checksum is in its key), else the newest partial of it (served under the plain name:
// that is what makes the last minute before a failure recoverable), or the timeline's history file. Pure.
import { LifeboatError } from '../../errors/index.js';
import type { ExpectedChecksums } from '../../pipeline/index.js';
import { parseWalKey, walHistoryKey, walPrefix, type ObjectInfo } from '../../storage/index.js';

/** A file name PostgreSQL passes as `%f` that `wal fetch` can serve. */
export type WalFetchName =
  | { kind: 'segment'; name: string; timeline: number }
  | { kind: 'history'; name: string; timeline: number };

/** The object chosen to serve a name, and what to verify while reading it. */
export interface WalSource {
  key: string;
  kind: 'segment' | 'partial' | 'history';
  expected: ExpectedChecksums;
}

const SEGMENT_NAME = /^([0-9A-F]{8})[0-9A-F]{16}$/;
const HISTORY_NAME = /^([0-9A-F]{8})\.history$/;

/**
 * Parses `%f`. Throws LifeboatError `usage` for anything else (e.g. `%p` and `%f` swapped): serving "not found"
 * for a misconfigured restore_command would let PostgreSQL end recovery early.
 */
export function parseWalFetchName(name: string): WalFetchName {
  const segment = SEGMENT_NAME.exec(name);
  const history = segment === null ? HISTORY_NAME.exec(name) : null;
  const timeline = Number.parseInt((segment ?? history)?.[1] ?? '0', 16);
  if ((segment === null && history === null) || timeline < 1) {
    throw new LifeboatError('usage', `"${name}" is not a WAL segment or timeline history file name`, {
      hint: 'restore_command must pass %f then %p: lifeboat wal fetch %f %p --restore-config FILE',
    });
  }
  return { kind: segment !== null ? 'segment' : 'history', name, timeline };
}

/** The prefix to list: it holds the complete segment and its partials, or exactly the history file. */
export function walSourcePrefix(cluster: string, request: WalFetchName): string {
  return request.kind === 'history' ? walHistoryKey(cluster, request.timeline) : `${walPrefix(cluster, request.timeline)}${request.name}`;
}

/**
 * The object to serve for `request` among `listing` (objects under {@link walSourcePrefix}), or undefined when
 * the repository holds none. A complete segment wins over partials; among partials the highest end LSN wins.
 * Throws LifeboatError `objectCorrupted` when two complete segments of the name differ.
 */
export function planWalSource(request: WalFetchName, listing: readonly ObjectInfo[]): WalSource | undefined {
  let complete: WalSource | undefined;
  let newestPartial: { source: WalSource; endLsnHex: string } | undefined;
  for (const object of listing) {
    const parsed = parseWalKey(object.key);
    if (parsed === undefined || parsed.timeline !== request.timeline) continue;
    if (request.kind === 'history') {
      if (parsed.kind === 'history') return { key: object.key, kind: 'history', expected: { storedSizeBytes: object.sizeBytes } };
      continue;
    }
    if (parsed.kind === 'history' || parsed.segmentName !== request.name) continue;
    if (parsed.kind === 'segment') {
      if (complete !== undefined && complete.expected.plaintextSha256 !== parsed.sha256) {
        throw new LifeboatError('objectCorrupted', `WAL segment ${request.name} is stored twice with different contents (${complete.key}, ${object.key})`, {
          hint: 'two clusters or timelines wrote the same segment name; find the one that belongs to this cluster and remove the other',
        });
      }
      complete = { key: object.key, kind: 'segment', expected: { plaintextSha256: parsed.sha256, storedSizeBytes: object.sizeBytes } };
    } else if (newestPartial === undefined || parsed.endLsnHex > newestPartial.endLsnHex) {
      // Fixed-width upper-case hex: string order is LSN order.
      newestPartial = { source: { key: object.key, kind: 'partial', expected: { storedSizeBytes: object.sizeBytes } }, endLsnHex: parsed.endLsnHex };
    }
  }
  return complete ?? newestPartial?.source;
}
