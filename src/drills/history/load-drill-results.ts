// Reads the drill history of a cluster back from the repository: every stored result decrypted, checked against
// the scope it was written for and parsed with the schema. One unreadable result (damaged, another key, written by
// an incompatible version) is reported beside the others, never allowed to hide the rest of the history.
import type { DecryptionSession } from '../../crypto/index.js';
import { isLifeboatError, LifeboatError, type ErrorCode } from '../../errors/index.js';
import { readObject } from '../../pipeline/index.js';
import { DEFAULT_MAX_JSON_BYTES, drillResultKey, drillsPrefix, forEachBounded, parseDrillResultKey, parseJsonBytes, readAll, type Storage } from '../../storage/index.js';
import { compareDrillIdsNewestFirst } from '../drill-id.js';
import { drillResultSchema, type DrillResult } from '../drill-result.js';
import { drillResultScope } from './drill-result-scope.js';

/** A stored object of the history that could not be read as a drill result. */
export interface UnreadableDrillResult {
  key: string;
  /** The drill id its key names; undefined for an object not named like a drill result. */
  drillId?: string;
  /** objectCorrupted, objectTruncated, wrongKey or objectNotFound (removed while being read). */
  code: ErrorCode;
  message: string;
  hint?: string;
}

export interface DrillHistory {
  /** Newest first (by the start time in the drill id). */
  results: DrillResult[];
  unreadable: UnreadableDrillResult[];
  /** Older stored results left unread because of `limit`. */
  olderNotRead: number;
}

export interface LatestDrillResult {
  /** The newest readable result; undefined when the cluster has none. */
  result: DrillResult | undefined;
  /** Newer results that could not be read (skipped to reach `result`). */
  unreadable: UnreadableDrillResult[];
}

export interface ListDrillResultsOptions {
  /** Read at most this many of the newest stored results. Default: all. */
  limit?: number;
  signal?: AbortSignal;
}

/** Codes that mean "this object is bad", as opposed to "the repository or key service is down" (which throw). */
const UNREADABLE_CODES: readonly ErrorCode[] = ['objectCorrupted', 'objectTruncated', 'wrongKey', 'objectNotFound'];
/** Results are small; a few in flight hide S3's per-request latency without a burst of KMS calls. */
const LOAD_CONCURRENCY = 4;

/**
 * Reads, decrypts and parses the drill result `drillId` of `cluster`. Throws LifeboatError `objectNotFound`,
 * `objectCorrupted` (authentication, scope, JSON or schema, naming the key and field), `objectTruncated`, `wrongKey`,
 * and the repository's and key service's errors.
 */
export async function loadDrillResult(storage: Storage, session: DecryptionSession, cluster: string, drillId: string, signal?: AbortSignal): Promise<DrillResult> {
  const key = drillResultKey(cluster, drillId);
  const what = `drill result "${key}" in ${storage.location}`;
  const stream = readObject({ storage, key, session, expectedScope: drillResultScope(cluster, drillId), ...(signal ? { signal } : {}) });
  const result = parseJsonBytes(await readAll(stream, DEFAULT_MAX_JSON_BYTES, what), drillResultSchema, what);
  if (result.cluster !== cluster || result.drillId !== drillId) {
    throw new LifeboatError('objectCorrupted', `${what} holds drill ${result.drillId} of cluster ${result.cluster}`, {
      hint: 'the object was written under the wrong name; remove it (the drill it describes is not this one)',
    });
  }
  return result;
}

function unreadableFrom(key: string, drillId: string | undefined, error: unknown): UnreadableDrillResult {
  if (!isLifeboatError(error) || !UNREADABLE_CODES.includes(error.code)) throw error;
  return { key, ...(drillId === undefined ? {} : { drillId }), code: error.code, message: error.message, ...(error.hint === undefined ? {} : { hint: error.hint }) };
}

/** The stored drill ids of `cluster`, newest first, and the objects under its drills folder that are not results. */
async function listStoredDrills(storage: Storage, cluster: string, signal?: AbortSignal): Promise<{ drillIds: string[]; strays: UnreadableDrillResult[] }> {
  const drillIds: string[] = [];
  const strays: UnreadableDrillResult[] = [];
  for await (const object of storage.list(drillsPrefix(cluster), signal ? { signal } : {})) {
    const parsed = parseDrillResultKey(object.key);
    if (parsed !== undefined && parsed.cluster === cluster) drillIds.push(parsed.drillId);
    else {
      strays.push({
        key: object.key,
        code: 'objectCorrupted',
        message: `object "${object.key}" in ${storage.location} is not named like a drill result (drill-${cluster}-<UTC time>.json.enc)`,
        hint: 'lifeboat did not write it; move it out of the drills folder',
      });
    }
  }
  return { drillIds: drillIds.sort(compareDrillIdsNewestFirst), strays };
}

/**
 * The drill history of `cluster`, newest first: at most `limit` of the newest stored results, each decrypted and
 * parsed. Results that cannot be read are listed in `unreadable` with their error; the repository or key service
 * failing (`storageUnavailable`, `kmsUnavailable`, `aborted`) throws.
 */
export async function listDrillResults(storage: Storage, session: DecryptionSession, cluster: string, options: ListDrillResultsOptions = {}): Promise<DrillHistory> {
  const { signal } = options;
  const { drillIds, strays } = await listStoredDrills(storage, cluster, signal);
  const chosen = options.limit === undefined ? drillIds : drillIds.slice(0, Math.max(0, options.limit));
  const loaded: (DrillResult | UnreadableDrillResult)[] = new Array(chosen.length);
  await forEachBounded(
    chosen.map((drillId, index) => ({ drillId, index })),
    LOAD_CONCURRENCY,
    async ({ drillId, index }) => {
      try {
        loaded[index] = await loadDrillResult(storage, session, cluster, drillId, signal);
      } catch (error) {
        loaded[index] = unreadableFrom(drillResultKey(cluster, drillId), drillId, error);
      }
    },
    signal,
  );
  const results: DrillResult[] = [];
  const unreadable: UnreadableDrillResult[] = [];
  for (const item of loaded) {
    if ('formatVersion' in item) results.push(item);
    else unreadable.push(item);
  }
  return { results, unreadable: [...unreadable, ...strays], olderNotRead: drillIds.length - chosen.length };
}

/**
 * The newest readable drill result of `cluster` (for `/metrics` and `status`): reads stored results newest first
 * and stops at the first that reads, so the cost is one listing and, normally, one object. Newer ones that could not
 * be read are returned in `unreadable`; the repository or key service failing throws.
 */
export async function loadLatestDrillResult(storage: Storage, session: DecryptionSession, cluster: string, signal?: AbortSignal): Promise<LatestDrillResult> {
  const { drillIds } = await listStoredDrills(storage, cluster, signal);
  const unreadable: UnreadableDrillResult[] = [];
  for (const drillId of drillIds) {
    try {
      return { result: await loadDrillResult(storage, session, cluster, drillId, signal), unreadable };
    } catch (error) {
      unreadable.push(unreadableFrom(drillResultKey(cluster, drillId), drillId, error));
    }
  }
  return { result: undefined, unreadable };
}
