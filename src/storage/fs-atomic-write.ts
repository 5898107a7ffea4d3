// Crash-safe writes for the fs driver: stream into a temp file under `<root>/.tmp/` (same file system, so the
// final step is a metadata operation), fsync it, then link() (create-only) or rename() (overwrite) it into
// place and fsync the folders whose entries changed. Readers therefore see the whole object or nothing.
import { randomUUID } from 'node:crypto';
import { link, mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { errnoCode, fsError, missingRootError } from './fs-errors.js';

/** Folder under the repository root holding writes in progress; never listed, swept by cleanup. */
export const TEMP_FOLDER = '.tmp';

/** Flushes a folder's entries (new names, removed names) to disk. */
export async function fsyncFolder(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Creates `folder` and any missing parents, then fsyncs the parent of each folder it created, so the new
 * entries survive a crash. Returns without I/O beyond mkdir when the folder already exists.
 */
export async function ensureFolder(folder: string): Promise<void> {
  const firstCreated = await mkdir(folder, { recursive: true });
  if (firstCreated === undefined) return;
  const stop = dirname(firstCreated);
  for (let current = folder; ; ) {
    const parent = dirname(current);
    await fsyncFolder(parent);
    if (parent === stop || parent === current) return;
    current = parent;
  }
}

async function writeAll(handle: FileHandle, data: Uint8Array): Promise<void> {
  // A single write() may be short; loop until the kernel has taken every byte.
  for (let offset = 0; offset < data.byteLength; ) {
    const { bytesWritten } = await handle.write(data, offset, data.byteLength - offset);
    offset += bytesWritten;
  }
}

/**
 * Writes `body` to a new temp file under `<root>/.tmp/` and fsyncs it. Returns its path and size in bytes.
 * The temp file is removed when writing fails or `signal` fires (the body stream is destroyed then too).
 * `<root>` must exist: only `.tmp/` is created, so a missing or unmounted root is reported, not papered over.
 * File-system failures become LifeboatError `storageUnavailable` naming `key`; the body's own errors and
 * aborts are rethrown unchanged, so the caller can tell "my input failed" from "the repository failed".
 */
export async function writeTempFile(
  root: string,
  key: string,
  body: Readable | Uint8Array,
  signal: AbortSignal | undefined,
): Promise<{ tempPath: string; sizeBytes: number }> {
  const tempFolder = join(root, TEMP_FOLDER);
  try {
    await mkdir(tempFolder);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') throw missingRootError(root, error);
    if (code !== 'EEXIST') throw fsError(error, `create "${TEMP_FOLDER}/"`, root);
  }
  const tempPath = join(tempFolder, `${randomUUID()}.tmp`);
  const action = `write "${key}"`;
  let handle: FileHandle;
  try {
    handle = await open(tempPath, 'wx', 0o600);
  } catch (error) {
    throw fsError(error, action, root);
  }
  // Only errors from our own file operations are the repository's fault; remember which those were.
  const ownFailure = async <T>(operation: Promise<T>): Promise<T> => {
    try {
      return await operation;
    } catch (error) {
      throw fsError(error, action, root);
    }
  };
  let sizeBytes = 0;
  try {
    try {
      if (body instanceof Uint8Array) {
        signal?.throwIfAborted();
        await ownFailure(writeAll(handle, body));
        sizeBytes = body.byteLength;
      } else {
        await pipeline(
          body,
          async (source: AsyncIterable<Buffer | string>) => {
            for await (const chunk of source) {
              const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
              await ownFailure(writeAll(handle, data));
              sizeBytes += data.byteLength;
            }
          },
          signal === undefined ? {} : { signal },
        );
      }
      await ownFailure(handle.sync());
    } finally {
      await ownFailure(handle.close());
    }
  } catch (error) {
    await removeQuietly(tempPath);
    throw error;
  }
  return { tempPath, sizeBytes };
}

/**
 * Moves a finished temp file to `finalPath`. Create-only uses link(), which fails with EEXIST instead of
 * replacing an existing name, even against a concurrent writer; the temp file is removed either way.
 * Overwrite uses rename(), which replaces atomically. Both fsync the destination folder afterwards.
 */
export async function commitTempFile(tempPath: string, finalPath: string, createOnly: boolean): Promise<void> {
  const folder = dirname(finalPath);
  let renamed = false;
  try {
    for (let attempt = 1; ; attempt++) {
      await ensureFolder(folder);
      try {
        if (createOnly) await link(tempPath, finalPath);
        else await rename(tempPath, finalPath);
        renamed = !createOnly;
        break;
      } catch (error) {
        // A concurrent delete may prune the just-created empty folder between mkdir and link; make it again.
        if (errnoCode(error) !== 'ENOENT' || attempt >= 3) throw error;
      }
    }
    await fsyncFolder(folder);
  } finally {
    if (!renamed) await removeQuietly(tempPath);
  }
}

/** unlink() that treats an already-missing file as success. */
export async function removeQuietly(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error;
  }
}
