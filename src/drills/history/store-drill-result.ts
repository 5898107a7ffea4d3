// Stores a drill's result in the repository, encrypted like every object that holds data: it names tables, hosts
// and what was found broken. Create-only, so a drill's history is never rewritten after the fact.
import { Readable } from 'node:stream';
import { createEncryptionSession, type KeyProvider } from '../../crypto/index.js';
import { isLifeboatError, LifeboatError } from '../../errors/index.js';
import { writeObject } from '../../pipeline/index.js';
import { drillResultKey, type Storage } from '../../storage/index.js';
import type { DrillResult } from '../drill-result.js';
import { formatDrillJson } from '../report/format-drill-json.js';
import { drillResultScope } from './drill-result-scope.js';

export interface StoreDrillResultOptions {
  storage: Storage;
  /** The repository's key provider (Repository.keys). */
  keys: KeyProvider;
  result: DrillResult;
  signal?: AbortSignal;
}

/**
 * Validates `result` and stores it at `clusters/<cluster>/drills/<drillId>.json.enc`; returns the key. Throws
 * LifeboatError `usage` for a drill id that is not the cluster's (see DRILL_ID_PATTERN), `internal` for a result
 * that does not match its schema, `objectExists` when that drill is stored already, and the key provider's and
 * storage's own errors (`storageUnavailable`, `kmsUnavailable`, `aborted`).
 */
export async function storeDrillResult({ storage, keys, result, signal }: StoreDrillResultOptions): Promise<string> {
  const key = drillResultKey(result.cluster, result.drillId);
  const text = formatDrillJson(result);
  // One data key per drill: the scope binds the object to this drill's id, which a session per cluster could not.
  const session = createEncryptionSession(keys, { scope: drillResultScope(result.cluster, result.drillId), ...(signal ? { signal } : {}) });
  try {
    // Small JSON: not worth a compressor, and `none` keeps the zstd worker pool out of a short-lived command.
    await writeObject({ storage, key, source: Readable.from([Buffer.from(text, 'utf8')]), compression: { algorithm: 'none' }, session, createOnly: true, ...(signal ? { signal } : {}) });
    return key;
  } catch (error) {
    if (isLifeboatError(error, 'objectExists')) {
      throw new LifeboatError('objectExists', `drill ${result.drillId} is already stored in ${storage.location}`, {
        hint: 'two drills of one cluster started in the same second; run the drill again (its id is its start time)',
        cause: error,
      });
    }
    throw error;
  } finally {
    session.close();
  }
}
