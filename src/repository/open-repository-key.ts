// Opens the configured key and holds it to the repository's key record (keys.json), so that one repository is
// never written with two keys. A key file is created only for an empty repository; a repository made before the
// record existed gets one only once the key has opened one of its objects.
import { stat } from 'node:fs/promises';
import type { RuntimeEncryption } from '../config/index.js';
import type { KeyProvider } from '../crypto/index.js';
import { isLifeboatError } from '../errors/index.js';
import type { Storage } from '../storage/index.js';
import { findKeyProofObject, findRepositoryData } from './find-repository-data.js';
import { openKeyProvider } from './open-key-provider.js';
import { proveKeyOpens } from './prove-repository-key.js';
import { missingKeyFileError, unprovenKeyError, unrecordedKeyError } from './repository-key-errors.js';
import { loadRepositoryKeys, recordNamesKey, storeRepositoryKeys, type RepositoryKeys } from './repository-keys.js';

/** `write`: backups, archiving, restore points, check, init; `read`: restore, verify, listing (never records). */
export type KeyOpenMode = 'write' | 'read';

export interface OpenRepositoryKeyOptions {
  mode: KeyOpenMode;
  signal?: AbortSignal;
  /** Clock for the record's time. Default: the system clock. */
  now?: () => Date;
}

export interface OpenedRepositoryKey {
  keys: KeyProvider;
  /** The record the key matches (found, or written now); undefined only for a reader of an unrecorded repository. */
  record?: RepositoryKeys;
  /** `matched` an existing record, `recorded` one now, or (readers) found the repository `unrecorded`. */
  outcome: 'matched' | 'recorded' | 'unrecorded';
  /** True when the local key file was created now, for an empty repository. */
  keyFileCreated: boolean;
}

async function keyFileExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    // Any other failure (a folder we may not read) is the key file loader's to report, with its own hint.
    return code !== 'ENOENT' && code !== 'ENOTDIR';
  }
}

/**
 * Open the key for `storage` in `mode`. Throws LifeboatError `keyFile` when the local key file is missing and
 * the repository records a key or holds data, `wrongKey` when the key is not the recorded one (or, unrecorded,
 * does not open the repository's oldest object), and the provider's and storage's own errors. On a refusal
 * nothing was written: no key file, no record.
 */
export async function openRepositoryKey(storage: Storage, encryption: RuntimeEncryption, options: OpenRepositoryKeyOptions): Promise<OpenedRepositoryKey> {
  const { mode, signal } = options;
  const location = storage.location;
  // Looked up once, when a step needs to know whether the repository is empty.
  let data: Promise<string | undefined> | undefined;
  const findData = (): Promise<string | undefined> => (data ??= findRepositoryData(storage, signal));

  // 1. Read the record first: it needs no key, and it names the expected key in every refusal.
  const record = await loadRepositoryKeys(storage, signal);

  // 2. A missing key file is created only for a writer of an empty repository without a record: a new key for
  //    a repository that has data would split it between two keys.
  let keyFileCreated = false;
  if (encryption.provider === 'local' && !(await keyFileExists(encryption.keyFile))) {
    if (record !== undefined) throw missingKeyFileError(encryption.keyFile, { location, record, dataKey: await findData() });
    if (mode === 'write') {
      const dataKey = await findData();
      if (dataKey !== undefined) throw missingKeyFileError(encryption.keyFile, { location, dataKey });
      keyFileCreated = true;
    }
  }
  const keys = await openKeyProvider(encryption, keyFileCreated);
  try {
    const keyIds = await keys.resolveKeyIds(signal ? { signal } : {});

    // 3. A recorded key is the only one accepted, by readers and writers alike.
    if (record !== undefined) {
      if (!recordNamesKey(record, keys.kind, keyIds)) throw unrecordedKeyError(keys, keyIds, { location, record, dataKey: await findData() });
      return { keys, record, outcome: 'matched', keyFileCreated };
    }
    if (mode === 'read') return { keys, outcome: 'unrecorded', keyFileCreated };

    // 4. No record but data (a repository made before records existed): the key must open its oldest object.
    let provenWith: string | undefined;
    if ((await findData()) !== undefined) {
      provenWith = await findKeyProofObject(storage, signal);
      if (provenWith !== undefined) {
        const objectKey = provenWith;
        await proveKeyOpens(storage, keys, objectKey, signal).catch((error: unknown) => {
          throw isLifeboatError(error, 'wrongKey') ? unprovenKeyError(keys, objectKey, location, error) : error;
        });
      }
    }

    // 5. Record it create-only: of two first writers with different keys, the second is refused below.
    const recorded: RepositoryKeys = {
      formatVersion: 1,
      provider: keys.kind,
      keyIds: [...keyIds],
      recordedTime: (options.now?.() ?? new Date()).toISOString(),
      ...(provenWith === undefined ? {} : { provenWith }),
    };
    try {
      await storeRepositoryKeys(storage, recorded, signal);
      return { keys, record: recorded, outcome: 'recorded', keyFileCreated };
    } catch (error) {
      if (!isLifeboatError(error, 'objectExists')) throw error;
      const theirs = await loadRepositoryKeys(storage, signal);
      if (theirs === undefined) throw error;
      if (!recordNamesKey(theirs, keys.kind, keyIds)) throw unrecordedKeyError(keys, keyIds, { location, record: theirs, dataKey: await findData() });
      return { keys, record: theirs, outcome: 'matched', keyFileCreated };
    }
  } catch (error) {
    keys.close();
    throw error;
  }
}
