// Downloads the WAL a restore will replay into its prefetch folder ahead of PostgreSQL, several at a time and
// earliest first, so `wal fetch` can serve each segment with a rename instead of a round trip (WAL-G's
// prefetch). Files appear under their final name only once complete and fsynced; present ones are kept.
import { mkdir, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { DecryptionSession } from '../../crypto/index.js';
import { describeError, isLifeboatError, LifeboatError } from '../../errors/index.js';
import { readObject, type ExpectedChecksums } from '../../pipeline/index.js';
import { forEachBounded, formatTimeline, parseWalKey, type Storage } from '../../storage/index.js';
import type { PlannedWal } from '../plan-restore.js';
import { localFileError, TEMP_NAME_PREFIX, writeFileAtomic } from './atomic-file.js';

/** Options for {@link prefetchWal}. */
export interface PrefetchWalOptions {
  storage: Storage;
  session: DecryptionSession;
  cluster: string;
  /** The restore plan's WAL; a partial is written under its plain segment name. */
  wal: readonly PlannedWal[];
  /** Keys of the timeline history files to fetch (each written as `<timeline>.history`). */
  historyKeys: readonly string[];
  /** Folder to fill; created if missing. */
  prefetchDir: string;
  /** Owner of the files (the PostgreSQL OS user, who moves them out). Default: the caller. */
  owner?: { uid: number; gid: number } | undefined;
  /** Downloads at once. Default 4. */
  concurrency?: number;
  signal: AbortSignal;
  /** Called after each file with stored bytes done and in total (WAL only) and files done (skipped included). */
  onProgress?: (doneBytes: number, totalBytes: number, doneFiles: number) => void;
}

/** What a prefetch did. */
export interface PrefetchResult {
  downloadedFiles: number;
  /** Files already present (a resumed restore), not downloaded again. */
  skippedFiles: number;
  /** Content bytes written. */
  writtenBytes: number;
}

/** One file to fetch. */
interface PrefetchItem {
  fileName: string;
  key: string;
  expected: ExpectedChecksums;
  storedSizeBytes: number;
}

/** Default downloads at once. */
export const DEFAULT_PREFETCH_CONCURRENCY = 4;

function historyItem(key: string): PrefetchItem {
  const parsed = parseWalKey(key);
  if (parsed?.kind !== 'history') {
    throw new LifeboatError('internal', `"${key}" is not a timeline history key`, { hint: 'this is a bug in lifeboat; please report it' });
  }
  return { fileName: `${formatTimeline(parsed.timeline)}.history`, key, expected: {}, storedSizeBytes: 0 };
}

function walItem(wal: PlannedWal): PrefetchItem {
  const expected: ExpectedChecksums = { storedSizeBytes: wal.storedSizeBytes, ...(wal.sha256 === undefined ? {} : { plaintextSha256: wal.sha256 }) };
  return { fileName: wal.segment, key: wal.key, expected, storedSizeBytes: wal.storedSizeBytes };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw localFileError(error, 'stat', path);
  }
}

/** Removes temp files a killed prefetch left behind; they would otherwise fill the disk on every resume. */
async function removeLeftovers(prefetchDir: string): Promise<void> {
  for (const name of await readdir(prefetchDir)) {
    if (name.startsWith(TEMP_NAME_PREFIX)) await unlink(join(prefetchDir, name)).catch(() => undefined);
  }
}

function namedFailure(error: unknown, item: PrefetchItem, signal: AbortSignal): LifeboatError {
  const message = `cannot prefetch ${item.fileName}: ${describeError(error)}`;
  if (signal.aborted && !isLifeboatError(error)) return new LifeboatError('aborted', message, { hint: 'the restore was cancelled; completed files are kept for a resume', cause: error });
  if (isLifeboatError(error)) return new LifeboatError(error.code, message, { hint: error.hint, cause: error });
  return new LifeboatError('internal', message, { hint: 'this is a bug in lifeboat; please report it', cause: error });
}

/**
 * Fetches every history file, then every planned segment in segment order, `concurrency` at a time, each
 * verified (stored size; content checksum when known) into `prefetchDir`. Rejects with the first failure,
 * a LifeboatError naming the file, after the downloads in flight have stopped; completed files stay.
 */
export async function prefetchWal(options: PrefetchWalOptions): Promise<PrefetchResult> {
  const { storage, session, cluster, prefetchDir, signal } = options;
  // History files first: PostgreSQL reads them before any segment. Then segments, earliest first.
  const items = [...options.historyKeys.map(historyItem), ...[...options.wal].sort((a, b) => (a.segment < b.segment ? -1 : a.segment > b.segment ? 1 : 0)).map(walItem)];
  const totalBytes = items.reduce((sum, item) => sum + item.storedSizeBytes, 0);
  try {
    await mkdir(prefetchDir, { recursive: true, mode: 0o700 });
    await removeLeftovers(prefetchDir);
  } catch (error) {
    throw localFileError(error, 'prepare the prefetch folder', prefetchDir);
  }
  const result: PrefetchResult = { downloadedFiles: 0, skippedFiles: 0, writtenBytes: 0 };
  let doneBytes = 0;
  const fetchOne = async (item: PrefetchItem): Promise<void> => {
    const path = join(prefetchDir, item.fileName);
    try {
      if (await exists(path)) {
        result.skippedFiles++;
      } else {
        const source = readObject({ storage, key: item.key, session, expected: item.expected, expectedScope: { cluster, family: 'wal' }, signal });
        result.writtenBytes += await writeFileAtomic({ path, source, durable: true, owner: options.owner, signal });
        result.downloadedFiles++;
      }
    } catch (error) {
      throw namedFailure(error, item, signal);
    }
    doneBytes += item.storedSizeBytes;
    options.onProgress?.(doneBytes, totalBytes, result.downloadedFiles + result.skippedFiles);
  };
  try {
    await forEachBounded(items, options.concurrency ?? DEFAULT_PREFETCH_CONCURRENCY, fetchOne, signal);
  } catch (error) {
    if (isLifeboatError(error) || !signal.aborted) throw error;
    throw new LifeboatError('aborted', `prefetching WAL into ${prefetchDir} was aborted`, { hint: 'the restore was cancelled; completed files are kept for a resume', cause: error });
  }
  return result;
}
