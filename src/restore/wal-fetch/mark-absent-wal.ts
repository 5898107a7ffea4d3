// Recovery's last questions are known in advance: the segment after the plan's last one (PostgreSQL asks for it
// to find the end of the archive) and, at promotion, the history file of the next timeline (to pick a timeline ID
// no one has used). Each answer costs restore_command a Node start (~0.35 s and ~80 MB) when it goes to `lifeboat
// wal fetch`; instead the restoring process asks the repository, as wal fetch would (one listing each), keeps
// `<name>.absent` for the names it lacks, and asks again every few seconds, dropping a marker whose file appeared.
// The script trusts a marker only while this process lives, so an answer is never older than one refresh.
import { chown, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { nextWalSegment, timelineHistoryFileName, toTimelineId, type WalSegmentName } from '../../postgres/index.js';
import { collectList, type Storage } from '../../storage/index.js';
import { parseWalFetchName, planWalSource, walSourcePrefix } from './plan-wal-source.js';

/** Suffix of a marker: restore_command answers "not in the repository" for `<name><ABSENT_SUFFIX>`. */
export const ABSENT_SUFFIX = '.absent';

/** Timelines probed past the plan's, at most: PostgreSQL takes the first free one, and each taken one is a restore. */
const MAX_TIMELINE_PROBES = 8;

export interface MarkAbsentWalOptions {
  storage: Storage;
  cluster: string;
  /** The plan's last segment (undefined: no WAL planned) and its timeline, the recovery target timeline. */
  lastSegment: WalSegmentName | undefined;
  timeline: number;
  segmentSizeBytes: number;
  prefetchDir: string;
  owner?: { uid: number; gid: number } | undefined;
  signal: AbortSignal;
}

/** True when a listing, the same one `wal fetch` makes, proves the repository lacks `name`. */
async function isAbsent(storage: Storage, cluster: string, name: string, signal: AbortSignal): Promise<boolean> {
  const request = parseWalFetchName(name);
  const listing = await collectList(storage, walSourcePrefix(cluster, request), { signal });
  return planWalSource(request, listing) === undefined;
}

/** How often the answers are renewed: the most a marker's answer can be out of date. */
export const ABSENT_REFRESH_MS = 5_000;

/** The names of recovery's last questions the repository lacks now. */
async function absentNames(options: MarkAbsentWalOptions): Promise<string[]> {
  const { storage, cluster, signal } = options;
  const absent: string[] = [];
  if (options.lastSegment !== undefined) {
    const next = nextWalSegment(options.lastSegment, options.segmentSizeBytes);
    if (await isAbsent(storage, cluster, next, signal)) absent.push(next);
  }
  for (let timeline = options.timeline + 1; timeline <= options.timeline + MAX_TIMELINE_PROBES; timeline++) {
    const name = timelineHistoryFileName(toTimelineId(timeline));
    if (await isAbsent(storage, cluster, name, signal)) {
      absent.push(name);
      break;
    }
  }
  return absent;
}

/** Makes the markers match the repository now: one for each of recovery's last questions it lacks. Returns those names. */
export async function markAbsentWal(options: MarkAbsentWalOptions): Promise<string[]> {
  const absent = await absentNames(options);
  const markerOf = (name: string): string => join(options.prefetchDir, `${name}${ABSENT_SUFFIX}`);
  // Stale ones first: a file that appeared must be fetched from now on.
  await removeMarkers(options.prefetchDir, absent);
  for (const name of absent) {
    await writeFile(markerOf(name), '', { mode: 0o644 });
    if (options.owner) await chown(markerOf(name), options.owner.uid, options.owner.gid);
  }
  return absent;
}

/**
 * Keeps the markers current until `options.signal` aborts (then resolves, leaving them: the script ignores them
 * once this process is gone). A failed listing removes every marker until one succeeds again: wal fetch decides.
 */
export async function keepAbsentMarkers(options: MarkAbsentWalOptions & { onError?: (error: unknown) => void }): Promise<void> {
  while (!options.signal.aborted) {
    try {
      await markAbsentWal(options);
    } catch (error) {
      if (options.signal.aborted) return;
      options.onError?.(error);
      await removeMarkers(options.prefetchDir).catch(() => undefined);
    }
    await sleep(ABSENT_REFRESH_MS, undefined, { signal: options.signal }).catch(() => undefined);
  }
}

/** Removes the markers in `prefetchDir`, except those of the names in `keep`. */
async function removeMarkers(prefetchDir: string, keep: readonly string[] = []): Promise<void> {
  for (const name of await readdir(prefetchDir)) {
    if (name.endsWith(ABSENT_SUFFIX) && !keep.includes(name.slice(0, -ABSENT_SUFFIX.length))) await rm(join(prefetchDir, name), { force: true });
  }
}
