// Local files that appear whole or not at all: content goes to a temp name in the destination's own folder
// (same file system, so the last step is a rename), and only a finished file gets the final name. Used for
// the prefetch folder and for the file PostgreSQL asked `wal fetch` to write.
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import type { ChunkSink } from '../../compress/index.js';
import { pipeline } from 'node:stream/promises';
import { LifeboatError } from '../../errors/index.js';

/** Temp names start with this, so a leftover of a killed process is recognisable and never taken for WAL. */
export const TEMP_NAME_PREFIX = '.lifeboat-tmp-';

/** Options for {@link writeFileAtomic}. */
export interface WriteFileAtomicOptions {
  /** The final path; replaced atomically if it exists. */
  path: string;
  /**
   * The content: a stream, consumed to its end (destroyed on failure), or a function that writes it through the sink
   * it is given (e.g. readObjectInto, which hands over decoded blocks without copying them) and settles when done.
   */
  source: Readable | ((sink: ChunkSink) => Promise<unknown>);
  /** fsync the file and its folder before returning, so the file survives a crash. Default false. */
  durable?: boolean;
  /** Owner to give the file before it appears (root restoring for the PostgreSQL OS user). Default: the caller. */
  owner?: { uid: number; gid: number } | undefined;
  signal?: AbortSignal;
}

/** The errno code of a Node system error (`ENOENT`, `EXDEV`, ...), or undefined for any other value. */
function errnoCode(error: unknown): string | undefined {
  return error instanceof Error && 'syscall' in error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/** A local file-system failure as a LifeboatError naming the path, with what to do about the usual causes. */
export function localFileError(error: unknown, action: string, path: string): unknown {
  const code = errnoCode(error);
  if (code === undefined) return error;
  const hint =
    code === 'ENOSPC' || code === 'EDQUOT'
      ? `free space on the file system holding ${dirname(path)}`
      : code === 'EACCES' || code === 'EPERM'
        ? `make ${dirname(path)} writable by the user lifeboat runs as (the PostgreSQL OS user during a restore)`
        : `check the file system holding ${dirname(path)}`;
  // No catalog code fits a local disk failure better: it is retried and reported like an unreachable store.
  return new LifeboatError('storageUnavailable', `cannot ${action} ${path}: ${code}`, { hint, cause: error });
}

/** Awaits a file-system `operation`, mapping its failure with {@link localFileError}. */
async function local<T>(operation: Promise<T>, action: string, path: string): Promise<T> {
  try {
    return await operation;
  } catch (error) {
    throw localFileError(error, action, path);
  }
}

/** A temp path next to `path`, unique per call. */
function tempPathFor(path: string): string {
  return join(dirname(path), `${TEMP_NAME_PREFIX}${basename(path)}-${randomUUID()}`);
}

async function removeQuietly(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch {
    // Already gone, or the folder itself is the problem; the original error is what gets reported.
  }
}

async function fsyncFolder(folder: string): Promise<void> {
  const handle = await open(folder, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Streams `source` into a temp file next to `path`, then renames it to `path`. Returns the bytes written. On
 * any failure or abort the temp file is removed and nothing appears under `path`. File-system errors become
 * LifeboatError `storageUnavailable` naming the path; the source's own errors pass through unchanged.
 */
export async function writeFileAtomic(options: WriteFileAtomicOptions): Promise<number> {
  const { path, source, durable = false, owner, signal } = options;
  const tempPath = tempPathFor(path);
  let handle: FileHandle;
  try {
    handle = await open(tempPath, 'wx', 0o600);
  } catch (error) {
    if (typeof source !== 'function') source.destroy();
    throw localFileError(error, 'create a file next to', path);
  }
  let sizeBytes = 0;
  const write: ChunkSink = async (chunk) => {
    // A single write() may be short; loop until the kernel has taken every byte.
    for (let offset = 0; offset < chunk.byteLength; ) offset += (await local(handle.write(chunk, offset), 'write', path)).bytesWritten;
    sizeBytes += chunk.byteLength;
  };
  try {
    try {
      if (typeof source === 'function') {
        signal?.throwIfAborted();
        await source(write);
      } else {
        await pipeline(
          source,
          async (chunks: AsyncIterable<Buffer>) => {
            for await (const chunk of chunks) await write(chunk);
          },
          signal === undefined ? {} : { signal },
        );
      }
      if (owner !== undefined) await local(handle.chown(owner.uid, owner.gid), 'chown', path);
      if (durable) await local(handle.sync(), 'fsync', path);
    } finally {
      await handle.close();
    }
    await local(rename(tempPath, path), 'rename a file to', path);
  } catch (error) {
    await removeQuietly(tempPath);
    throw error;
  }
  if (durable) await local(fsyncFolder(dirname(path)), 'fsync the folder of', path);
  return sizeBytes;
}

/**
 * Moves `from` to `to`: a rename when both are on one file system, else a copy (temp file and rename) and an
 * unlink of `from`. Resolves false, without touching `to`, when `from` does not exist.
 */
export async function moveFile(from: string, to: string, signal?: AbortSignal): Promise<boolean> {
  try {
    await rename(from, to);
    return true;
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT') return false;
    if (code !== 'EXDEV') throw localFileError(error, `move ${from} to`, to);
  }
  const source = createReadStream(from);
  try {
    await writeFileAtomic({ path: to, source, signal });
  } catch (error) {
    // Gone between the failed rename and the open: someone else took it.
    if (errnoCode(error) === 'ENOENT' && (error as NodeJS.ErrnoException).path === from) return false;
    throw localFileError(error, `copy ${from} to`, to);
  }
  await local(unlink(from), 'remove', from);
  return true;
}
