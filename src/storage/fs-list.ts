// Lists a repository folder the way S3 lists a bucket: every file whose key starts with a prefix, in UTF-8
// byte order of the whole key, one folder read at a time. Sorting a folder by `name/` for sub-folders and
// `name` for files yields whole-key order, because every key below a sub-folder shares its `name/` prefix.
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode } from './fs-errors.js';
import { TEMP_FOLDER } from './fs-atomic-write.js';
import type { ObjectInfo } from './storage.js';
import { compareKeys } from './storage-key.js';

interface Entry {
  /** The key of the file, or the key prefix (ending in `/`) shared by everything below the folder. */
  key: string;
  isFolder: boolean;
}

async function readFolder(path: string): Promise<Dirent[]> {
  try {
    return await readdir(path, { withFileTypes: true });
  } catch (error) {
    // A missing folder lists as empty, like an S3 prefix with nothing under it; so does a file in its place.
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw error;
  }
}

async function* walk(root: string, folderKey: string, prefix: string, signal?: AbortSignal): AsyncGenerator<ObjectInfo> {
  const entries: Entry[] = [];
  for (const dirent of await readFolder(join(root, folderKey))) {
    // Symlinks and other special files are not objects; following them could leave the repository.
    if (!dirent.isFile() && !dirent.isDirectory()) continue;
    if (folderKey === '' && dirent.name === TEMP_FOLDER) continue;
    const entry = { key: folderKey + dirent.name + (dirent.isDirectory() ? '/' : ''), isFolder: dirent.isDirectory() };
    // Keep files under the prefix, and folders under it or on the way down to it.
    if (entry.key.startsWith(prefix) || (entry.isFolder && prefix.startsWith(entry.key))) entries.push(entry);
  }
  entries.sort((a, b) => compareKeys(a.key, b.key));
  for (const entry of entries) {
    signal?.throwIfAborted();
    if (entry.isFolder) {
      yield* walk(root, entry.key, prefix, signal);
      continue;
    }
    try {
      const info = await stat(join(root, entry.key));
      yield { key: entry.key, sizeBytes: info.size, lastModified: info.mtime };
    } catch (error) {
      // Deleted between readdir and stat: S3 would not list it either.
      if (errnoCode(error) !== 'ENOENT') throw error;
    }
  }
}

/**
 * Every file under `root` whose key starts with `prefix`, in key order, skipping `.tmp/`. Lazy: each folder
 * is read only when the iteration reaches it. Starts at the deepest folder the prefix names in full.
 */
export function listFiles(root: string, prefix: string, signal?: AbortSignal): AsyncGenerator<ObjectInfo> {
  const startFolder = prefix.slice(0, prefix.lastIndexOf('/') + 1);
  return walk(root, startFolder, prefix, signal);
}
