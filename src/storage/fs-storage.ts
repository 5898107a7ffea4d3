// The fs storage driver: a repository is a local or mounted folder and each key is a file path below it.
// Writes go through fs-atomic-write (temp file, fsync, link/rename); listing through fs-list. Suited to a
// NAS/NFS mount or a test repository; the folder must already exist.
import { lstat, open, readdir, rmdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { addAbortSignal, Readable } from 'node:stream';
import { forEachBounded } from './for-each-bounded.js';
import { commitTempFile, removeQuietly, TEMP_FOLDER, writeTempFile } from './fs-atomic-write.js';
import { errnoCode, fsError, missingRootError } from './fs-errors.js';
import { listFiles } from './fs-list.js';
import type { GetOptions, ObjectInfo, PutOptions, PutResult, Storage } from './storage.js';
import { abortedError, isAbortError, objectExistsError, objectNotFoundError, rangeBeyondEndError } from './storage-errors.js';
import { assertValidKey, assertValidPrefix } from './storage-key.js';
import { LifeboatError } from '../errors/index.js';

/** Options for {@link createFsStorage}. */
export interface FsStorageOptions {
  /** Repository root folder; must exist. Relative paths resolve against the process's working directory. */
  path: string;
}

/** Files deleted or swept at once: enough to hide latency on network file systems without exhausting fds. */
const FILE_CONCURRENCY = 16;

function assertValidRange(range: { start: number; end: number }): void {
  if (!Number.isSafeInteger(range.start) || !Number.isSafeInteger(range.end) || range.start < 0 || range.end < range.start) {
    throw new LifeboatError('internal', `invalid byte range ${range.start}-${range.end}`, {
      hint: 'this is a bug in lifeboat; please report it',
    });
  }
}

/** Creates the fs driver for the repository folder at `options.path`. No I/O until the first call. */
export function createFsStorage(options: FsStorageOptions): Storage {
  const root = resolve(options.path);
  const location = root;
  const pathOf = (key: string): string => join(root, key);

  /** Throws `storageUnavailable` when the root itself is gone, so "not found" is not blamed on the key. */
  async function assertRootExists(cause: unknown): Promise<void> {
    try {
      if ((await stat(root)).isDirectory()) return;
    } catch (error) {
      throw missingRootError(root, error);
    }
    throw missingRootError(root, cause);
  }

  function assertUsableKey(key: string): void {
    assertValidKey(key);
    // `.tmp/` holds writes in progress; an object stored there would be swept away as a leftover.
    if (key === TEMP_FOLDER || key.startsWith(`${TEMP_FOLDER}/`)) {
      throw new LifeboatError('internal', `invalid storage key "${key}": "${TEMP_FOLDER}/" is reserved by the fs driver`, {
        hint: 'object keys are built by src/storage/repository-layout.ts; this is a bug in lifeboat, please report it',
      });
    }
  }

  async function put(key: string, body: Readable | Uint8Array, putOptions: PutOptions = {}): Promise<PutResult> {
    try {
      return await writeObject(key, body, putOptions);
    } catch (error) {
      // Tell the body's producer to stop, whatever failed; a no-op when the pipeline already destroyed it.
      if (body instanceof Readable) body.destroy();
      throw error;
    }
  }

  async function writeObject(key: string, body: Readable | Uint8Array, putOptions: PutOptions): Promise<PutResult> {
    assertUsableKey(key);
    const { signal, createOnly = false } = putOptions;
    let written: { tempPath: string; sizeBytes: number };
    try {
      written = await writeTempFile(root, key, body, signal);
    } catch (error) {
      if (signal?.aborted === true && (isAbortError(error) || error === signal.reason)) {
        throw abortedError('put', key, location, error);
      }
      throw error;
    }
    // The last moment an abort can still leave nothing behind; after link/rename the object is visible.
    if (signal?.aborted === true) {
      await removeQuietly(written.tempPath);
      throw abortedError('put', key, location, signal.reason);
    }
    try {
      await commitTempFile(written.tempPath, pathOf(key), createOnly);
    } catch (error) {
      if (createOnly && errnoCode(error) === 'EEXIST') throw objectExistsError(key, location, error);
      throw fsError(error, `write "${key}"`, root);
    }
    return { key, sizeBytes: written.sizeBytes };
  }

  async function get(key: string, getOptions: GetOptions = {}): Promise<Readable> {
    assertUsableKey(key);
    const { range, signal } = getOptions;
    if (range !== undefined) assertValidRange(range);
    if (signal?.aborted === true) throw abortedError('get', key, location, signal.reason);
    let handle;
    try {
      handle = await open(pathOf(key), 'r');
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        await assertRootExists(error);
        throw objectNotFoundError(key, location, error);
      }
      throw fsError(error, `read "${key}"`, root);
    }
    try {
      const info = await handle.stat();
      // A folder is where keys below it live, never an object itself (S3 would say NoSuchKey too).
      if (!info.isFile()) throw objectNotFoundError(key, location);
      if (range !== undefined && range.start >= info.size) throw rangeBeyondEndError(key, location, range.start);
    } catch (error) {
      await handle.close();
      throw fsError(error, `read "${key}"`, root);
    }
    const stream = handle.createReadStream(range === undefined ? {} : { start: range.start, end: range.end });
    return signal === undefined ? stream : addAbortSignal(signal, stream);
  }

  async function head(key: string, headOptions: { signal?: AbortSignal } = {}): Promise<ObjectInfo | undefined> {
    assertUsableKey(key);
    if (headOptions.signal?.aborted === true) throw abortedError('head', key, location, headOptions.signal.reason);
    try {
      const info = await stat(pathOf(key));
      return info.isFile() ? { key, sizeBytes: info.size, lastModified: info.mtime } : undefined;
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw fsError(error, `stat "${key}"`, root);
    }
  }

  async function* list(prefix: string, listOptions: { signal?: AbortSignal } = {}): AsyncGenerator<ObjectInfo> {
    assertValidPrefix(prefix);
    await assertRootExists(undefined);
    const { signal } = listOptions;
    try {
      yield* listFiles(root, prefix, signal);
    } catch (error) {
      if (signal?.aborted === true) throw abortedError('list', prefix, location, error);
      throw fsError(error, `list "${prefix}"`, root);
    }
  }

  /** Removes now-empty folders above a deleted file, up to the root; S3 has no folders to leave behind. */
  async function pruneEmptyFolders(key: string): Promise<void> {
    for (let folder = dirname(pathOf(key)); folder.startsWith(`${root}/`); folder = dirname(folder)) {
      try {
        await rmdir(folder);
      } catch {
        return; // ENOTEMPTY, or a concurrent put is filling it again: either way it is in use.
      }
    }
  }

  async function deleteKeys(keys: readonly string[], deleteOptions: { signal?: AbortSignal } = {}): Promise<void> {
    keys.forEach(assertUsableKey);
    const { signal } = deleteOptions;
    const deleteOne = async (key: string): Promise<void> => {
      try {
        await removeQuietly(pathOf(key));
      } catch (error) {
        // A folder of other keys, or a path through a file: S3 would find no such object and ignore it.
        const code = errnoCode(error);
        if (code === 'EISDIR' || code === 'ENOTDIR') return;
        throw fsError(error, `delete "${key}"`, root);
      }
      await pruneEmptyFolders(key);
    };
    try {
      await forEachBounded(keys, FILE_CONCURRENCY, deleteOne, signal);
    } catch (error) {
      if (signal?.aborted === true) throw abortedError('delete', `${keys.length} keys`, location, error);
      throw error;
    }
  }

  async function cleanupIncompleteWrites(olderThanMs: number, cleanupOptions: { signal?: AbortSignal } = {}): Promise<number> {
    const tempFolder = join(root, TEMP_FOLDER);
    // mtime advances with every write, so a slow but live write keeps looking young and is left alone.
    const cutoffMs = Date.now() - olderThanMs;
    let names: string[];
    try {
      names = await readdir(tempFolder);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return 0;
      throw fsError(error, `list "${TEMP_FOLDER}/"`, root);
    }
    let removed = 0;
    const removeIfStale = async (name: string): Promise<void> => {
      const path = join(tempFolder, name);
      try {
        if ((await lstat(path)).mtimeMs > cutoffMs) return;
        await removeQuietly(path);
        removed++;
      } catch (error) {
        if (errnoCode(error) === 'ENOENT') return;
        throw fsError(error, `remove leftover "${TEMP_FOLDER}/${name}"`, root);
      }
    };
    const { signal } = cleanupOptions;
    try {
      await forEachBounded(names, FILE_CONCURRENCY, removeIfStale, signal);
    } catch (error) {
      if (signal?.aborted === true) throw abortedError('cleanup', `${TEMP_FOLDER}/`, location, error);
      throw error;
    }
    return removed;
  }

  return { driver: 'fs', location, put, get, head, list, delete: deleteKeys, cleanupIncompleteWrites };
}
