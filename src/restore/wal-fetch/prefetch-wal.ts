// Downloads the WAL a restore will replay into its prefetch folder ahead of PostgreSQL, several at a time and
// earliest first, so restore_command can serve each segment with a rename instead of a round trip (WAL-G's
// prefetch). Files appear under their final name only once complete, verified and fsynced; present ones are
// kept. With a window, the folder never holds more than it: the next download waits until replay takes a file.
import { mkdir, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { DecryptionSession } from '../../crypto/index.js';
import { describeError, isLifeboatError, LifeboatError } from '../../errors/index.js';
import { readObjectInto, type ExpectedChecksums } from '../../pipeline/index.js';
import { formatTimeline, parseWalKey, type Storage } from '../../storage/index.js';
import type { PlannedWal } from '../plan-restore.js';
import { localFileError, TEMP_NAME_PREFIX, writeFileAtomic } from './atomic-file.js';
import { PrefetchWindow, walPosition } from './prefetch-window.js';

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
  /** Downloads at once. Default {@link DEFAULT_PREFETCH_CONCURRENCY}. */
  concurrency?: number;
  /**
   * Bytes the folder may hold at once, files and downloads in flight (each booked at `segmentSizeBytes`, a history
   * file at {@link HISTORY_RESERVE_BYTES}). Default: no bound.
   */
  windowBytes?: number;
  /** Size of a WAL segment file. Default 16 MiB. */
  segmentSizeBytes?: number;
  /** Stop once the next file does not fit, instead of waiting for replay to take files (nothing replays yet). */
  firstWindowOnly?: boolean;
  /** restore_command's log: the segments it had `lifeboat wal fetch` fetch tell how far replay got. Default: none. */
  commandLogFile?: string | undefined;
  /** The segment holding the backup's checkpoint record, which replay reads first, out of order. Default: none. */
  checkpointSegment?: string | undefined;
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
  /** Files restore_command took while the prefetch ran. */
  consumedFiles: number;
  /** Planned segments replay was past before they were taken: removed, or never downloaded. */
  droppedFiles: number;
  /** Most bytes the folder held at once, by the window's account (downloads in flight at their full size). */
  peakHeldBytes: number;
  /** True when the window filled and `firstWindowOnly` stopped the prefetch before the end of the plan. */
  stoppedAtWindow: boolean;
}

/** One file to fetch. */
interface PrefetchItem {
  fileName: string;
  key: string;
  expected: ExpectedChecksums;
  storedSizeBytes: number;
  /** Replay order of a segment; undefined for a history file. */
  position: string | undefined;
}

/** Default downloads at once: the zstd pool decodes on up to 4 threads, and more streams only hold more buffers. */
export const DEFAULT_PREFETCH_CONCURRENCY = 2;

/** Room booked for a history file while it downloads: a line per timeline switch, never near this. */
export const HISTORY_RESERVE_BYTES = 1024 * 1024;

function historyItem(key: string): PrefetchItem {
  const parsed = parseWalKey(key);
  if (parsed?.kind !== 'history') {
    throw new LifeboatError('internal', `"${key}" is not a timeline history key`, { hint: 'this is a bug in lifeboat; please report it' });
  }
  return { fileName: `${formatTimeline(parsed.timeline)}.history`, key, expected: {}, storedSizeBytes: 0, position: undefined };
}

function walItem(wal: PlannedWal): PrefetchItem {
  const expected: ExpectedChecksums = { storedSizeBytes: wal.storedSizeBytes, ...(wal.sha256 === undefined ? {} : { plaintextSha256: wal.sha256 }) };
  return { fileName: wal.segment, key: wal.key, expected, storedSizeBytes: wal.storedSizeBytes, position: walPosition(wal.segment) };
}

/** The size of the file at `path`, or undefined when there is none. */
async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
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
 * Fetches every history file, then the planned segments in segment order, `concurrency` at a time and within the
 * window, each verified (stored size; content checksum when known) into `prefetchDir`. Rejects with the first
 * failure, a LifeboatError naming the file, after the downloads in flight have stopped; completed files stay.
 */
export async function prefetchWal(options: PrefetchWalOptions): Promise<PrefetchResult> {
  const { storage, session, cluster, prefetchDir, signal } = options;
  const segmentSizeBytes = options.segmentSizeBytes ?? 16 * 1024 * 1024;
  const concurrency = options.concurrency ?? DEFAULT_PREFETCH_CONCURRENCY;
  // History files first: PostgreSQL reads them before any segment. Then segments, earliest first.
  const items = [...options.historyKeys.map(historyItem), ...[...options.wal].sort((a, b) => (a.segment < b.segment ? -1 : a.segment > b.segment ? 1 : 0)).map(walItem)];
  const totalBytes = items.reduce((sum, item) => sum + item.storedSizeBytes, 0);
  try {
    await mkdir(prefetchDir, { recursive: true, mode: 0o700 });
    await removeLeftovers(prefetchDir);
  } catch (error) {
    throw localFileError(error, 'prepare the prefetch folder', prefetchDir);
  }
  const window = new PrefetchWindow({
    prefetchDir,
    limitBytes: options.windowBytes ?? Number.POSITIVE_INFINITY,
    commandLogFile: options.commandLogFile,
    checkpointPosition: options.checkpointSegment === undefined ? undefined : walPosition(options.checkpointSegment),
  });
  const result: PrefetchResult = { downloadedFiles: 0, skippedFiles: 0, writtenBytes: 0, consumedFiles: 0, droppedFiles: 0, peakHeldBytes: 0, stoppedAtWindow: false };
  let doneBytes = 0;
  let doneFiles = 0;
  const done = (item: PrefetchItem): void => {
    doneBytes += item.storedSizeBytes;
    options.onProgress?.(doneBytes, totalBytes, ++doneFiles);
  };
  let active = 0;
  let failure: LifeboatError | undefined;
  const inFlight = new Set<Promise<void>>();
  const fetchOne = async (item: PrefetchItem, path: string): Promise<void> => {
    try {
      const read = { storage, key: item.key, session, expected: item.expected, expectedScope: { cluster, family: 'wal' as const }, signal };
      const sizeBytes = await writeFileAtomic({ path, source: (sink) => readObjectInto(read, sink), durable: true, owner: options.owner, signal });
      result.writtenBytes += sizeBytes;
      result.downloadedFiles++;
      window.placed(item.fileName, sizeBytes, item.position);
      done(item);
    } catch (error) {
      window.cancel(item.fileName);
      failure ??= namedFailure(error, item, signal);
    } finally {
      active--;
      window.update();
    }
  };
  window.start();
  try {
    for (const item of items) {
      if (failure !== undefined || signal.aborted) break;
      const path = join(prefetchDir, item.fileName);
      const presentBytes = await sizeOf(path).catch((error: unknown) => {
        failure ??= namedFailure(error, item, signal);
        return undefined;
      });
      if (failure !== undefined) break;
      if (presentBytes !== undefined) {
        result.skippedFiles++;
        window.placed(item.fileName, presentBytes, item.position);
        done(item);
        continue;
      }
      const reserveBytes = item.position === undefined ? HISTORY_RESERVE_BYTES : segmentSizeBytes;
      // Larger than the whole window (0 turns prefetching off): restore_command fetches it when asked.
      if (reserveBytes > window.limitBytes) continue;
      if (options.firstWindowOnly && !window.fits(reserveBytes)) {
        result.stoppedAtWindow = true;
        break;
      }
      // Room in the window and a free download slot; replay may get past this file meanwhile.
      await window.waitUntil(() => failure !== undefined || window.isPassed(item.position) || (active < concurrency && window.fits(reserveBytes)), signal);
      if (failure !== undefined || signal.aborted) break;
      if (window.isPassed(item.position)) {
        result.droppedFiles++;
        done(item);
        continue;
      }
      window.reserve(item.fileName, reserveBytes, item.position);
      active++;
      const running = fetchOne(item, path);
      inFlight.add(running);
      void running.finally(() => inFlight.delete(running));
    }
    await Promise.all(inFlight);
  } finally {
    window.stop();
  }
  result.consumedFiles = window.consumedFiles;
  result.droppedFiles += window.droppedFiles;
  result.peakHeldBytes = window.peakHeldBytes;
  if (failure !== undefined) throw failure;
  if (signal.aborted) {
    throw new LifeboatError('aborted', `prefetching WAL into ${prefetchDir} was aborted`, { hint: 'the restore was cancelled; completed files are kept for a resume', cause: signal.reason });
  }
  return result;
}
