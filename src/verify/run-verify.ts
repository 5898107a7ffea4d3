// `lifeboat verify`: reads every object of the chosen backups and the WAL they need, checking both checksums and
// every authentication tag, and WAL contiguity from each backup's start along the timeline history to the newest
// archived segment and partial. Every problem is reported with the exact object or segment name; nothing is repaired.
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import { createDecryptionSession, type DecryptionSession, type KeyProvider } from '../crypto/index.js';
import { LifeboatError, describeError, isLifeboatError } from '../errors/index.js';
import { readObject, type ExpectedChecksums } from '../pipeline/index.js';
import { segmentStartLsn, toTimelineId, type Lsn, type TimelineId, type TimelineSwitch, type WalSegmentName } from '../postgres/index.js';
import { loadBackupCatalog } from '../repository/backup-catalog.js';
import type { BackupManifest } from '../repository/backup-manifest.js';
import { loadClusterIdentity } from '../repository/cluster-identity.js';
import { segmentOnPath, walkArchivedWal, type TimelineStep } from '../repository/find-wal-gaps.js';
import { listArchivedWal, type ArchivedPartial, type ArchivedWal } from '../repository/list-archived-wal.js';
import { loadTimelineHistories, newestDescendantPath } from '../repository/timeline-histories.js';
import { forEachBounded, type Storage } from '../storage/index.js';

export interface VerifyProblem {
  /** Error code of what went wrong (objectCorrupted, objectTruncated, wrongKey, objectNotFound, ...). */
  code: string;
  /** The object key or WAL segment concerned. */
  subject: string;
  message: string;
}

export interface VerifyReport {
  cluster: string;
  backupsChecked: string[];
  objectsChecked: number;
  bytesChecked: number;
  walSegmentsChecked: number;
  /** Needed WAL segments that are not in the repository, per timeline walk, exact names. */
  missingWalSegments: string[];
  problems: VerifyProblem[];
  ok: boolean;
}

export interface RunVerifyOptions {
  storage: Storage;
  keys: KeyProvider;
  cluster: string;
  backupId?: string;
  log: Logger;
  signal: AbortSignal;
  /** Objects read at once; default 4. */
  concurrency?: number;
  /** Content bytes read and verified so far, of the total to read (WAL segments counted at full size). */
  onProgress?: (doneBytes: number, totalBytes: number) => void;
}

interface ObjectToCheck {
  key: string;
  expected: ExpectedChecksums;
  family: 'base' | 'wal';
  backupId?: string;
  /** For the newest partial: the segment it holds the head of. A live archiver replaces it while verify runs. */
  partialOf?: WalSegmentName;
}

async function readThrough(storage: Storage, session: DecryptionSession, cluster: string, object: ObjectToCheck, signal: AbortSignal, counted?: (bytes: number) => void): Promise<number> {
  let bytes = 0;
  await pipeline(
    readObject({
      storage,
      key: object.key,
      session,
      expected: object.expected,
      expectedScope: { cluster, family: object.family, ...(object.backupId ? { backupId: object.backupId } : {}) },
      signal,
    }),
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        counted?.(chunk.length);
        callback();
      },
    }),
  );
  return bytes;
}

/**
 * WAL a restore of a backup starting at `from` reads: along `path` (to the newest timeline descending from the
 * backup's) up to the newest complete segment, then the newest partial of the next segment, which `--latest`
 * replays last. What is stored, what is missing, and that partial.
 */
function walNeeded(wal: ArchivedWal, path: readonly TimelineStep[], from: WalSegmentName, segmentSizeBytes: number): { present: WalSegmentName[]; missing: WalSegmentName[]; partial: ArchivedPartial | undefined } {
  const walk = walkArchivedWal(wal, path, segmentStartLsn(from, segmentSizeBytes), segmentSizeBytes);
  const next = walk.newest === undefined ? from : segmentOnPath(path, (segmentStartLsn(walk.newest, segmentSizeBytes) + BigInt(segmentSizeBytes)) as Lsn, segmentSizeBytes);
  const partial = wal.partials.get(next)?.at(-1);
  // Nothing complete from the start on: the start segment itself is missing unless a partial holds it.
  if (walk.newest === undefined && !partial) return { present: [], missing: [from], partial };
  return { present: walk.stored, missing: walk.gaps, partial };
}

function chooseBackups(catalog: BackupManifest[], backupId: string | undefined, cluster: string): BackupManifest[] {
  if (backupId === undefined) return catalog;
  const chosen = catalog.find((m) => m.backupId === backupId);
  if (!chosen) {
    throw new LifeboatError('objectNotFound', `backup ${backupId} of cluster "${cluster}" is not in the repository`, {
      hint: '`lifeboat backups list` shows the backups that exist',
    });
  }
  return [chosen];
}

export async function runVerify(options: RunVerifyOptions): Promise<VerifyReport> {
  const { storage, cluster, signal } = options;
  const log = options.log.child({ component: 'verify', cluster });
  const identity = await loadClusterIdentity(storage, cluster, signal);
  const catalog = await loadBackupCatalog(storage, cluster, signal);
  const chosen = chooseBackups(catalog, options.backupId, cluster);
  const report: VerifyReport = { cluster, backupsChecked: chosen.map((m) => m.backupId), objectsChecked: 0, bytesChecked: 0, walSegmentsChecked: 0, missingWalSegments: [], problems: [], ok: true };
  if (!identity || chosen.length === 0) {
    report.problems.push({ code: 'objectNotFound', subject: cluster, message: `cluster "${cluster}" has no backups in the repository` });
    report.ok = false;
    return report;
  }
  const wal = await listArchivedWal(storage, cluster, signal);
  const session = createDecryptionSession(options.keys, { expectedScope: { cluster }, signal });
  try {
    // 1. The timeline histories: a restore follows them from a backup's timeline to the newest one after it.
    let histories: Map<TimelineId, TimelineSwitch[]> = new Map();
    try {
      histories = await loadTimelineHistories(storage, session, cluster, wal, signal);
    } catch (error) {
      if (signal.aborted || !isLifeboatError(error)) throw error;
      report.problems.push({ code: error.code, subject: 'timeline history', message: describeError(error) });
    }
    const objects = collectObjects(chosen, wal, histories, identity.walSegmentSizeBytes, report);
    await readEverything(options, session, objects, identity.walSegmentSizeBytes, report, log);
  } finally {
    session.close();
  }
  report.ok = report.problems.length === 0;
  return report;
}

/** Step 2. What to read: every part of every chosen backup, every sealed segment, and the WAL from each start on. */
function collectObjects(chosen: readonly BackupManifest[], wal: ArchivedWal, histories: ReadonlyMap<TimelineId, TimelineSwitch[]>, segmentSizeBytes: number, report: VerifyReport): ObjectToCheck[] {
  const objects = new Map<string, ObjectToCheck>();
  const missing = new Set<string>();
  for (const manifest of chosen) {
    if (manifest.type === 'full') {
      for (const part of manifest.parts) objects.set(part.key, { key: part.key, expected: part, family: 'base', backupId: manifest.backupId });
      const path = newestDescendantPath(toTimelineId(manifest.timeline), wal, histories);
      const needed = walNeeded(wal, path, manifest.startSegment as WalSegmentName, segmentSizeBytes);
      needed.missing.forEach((segment) => missing.add(segment));
      for (const segment of needed.present) {
        const stored = wal.segments.get(segment)!;
        objects.set(stored.key, { key: stored.key, expected: { plaintextSha256: stored.sha256 }, family: 'wal' });
      }
      // A partial carries no checksum in its name; reading it still proves every authentication tag.
      if (needed.partial) objects.set(needed.partial.key, { key: needed.partial.key, expected: {}, family: 'wal', partialOf: needed.partial.segment });
    } else {
      for (const segment of manifest.segments) {
        const stored = wal.segments.get(segment.segment as WalSegmentName);
        if (!stored || stored.key !== segment.key) missing.add(segment.segment);
        else objects.set(stored.key, { key: stored.key, expected: { plaintextSha256: segment.plaintextSha256, storedSizeBytes: segment.storedSizeBytes }, family: 'wal' });
      }
    }
  }
  report.missingWalSegments = [...missing].sort();
  for (const segment of report.missingWalSegments) {
    report.problems.push({ code: 'objectNotFound', subject: segment, message: `WAL segment ${segment} is missing: restores cannot pass it` });
  }
  return [...objects.values()];
}

/**
 * What replaced a partial that vanished while verify ran: a live archiver uploads the head segment again every
 * interval and deletes the older partial, and ships the complete segment once it fills. Undefined when nothing did
 * (then the partial is truly missing, and reported).
 */
async function findSuccessor(storage: Storage, cluster: string, object: ObjectToCheck, signal: AbortSignal): Promise<ObjectToCheck | undefined> {
  if (object.partialOf === undefined) return undefined;
  const wal = await listArchivedWal(storage, cluster, signal);
  const complete = wal.segments.get(object.partialOf);
  if (complete) return { key: complete.key, expected: { plaintextSha256: complete.sha256 }, family: 'wal' };
  const newest = wal.partials.get(object.partialOf)?.at(-1);
  return newest && newest.key !== object.key ? { key: newest.key, expected: {}, family: 'wal' } : undefined;
}

/** Step 3. Read everything through the full verification pipeline, a few at a time; collect, never stop early. */
async function readEverything(options: RunVerifyOptions, session: DecryptionSession, objects: readonly ObjectToCheck[], segmentSizeBytes: number, report: VerifyReport, log: Logger): Promise<void> {
  const { storage, cluster, signal, onProgress } = options;
  const sizeOf = (o: ObjectToCheck): number => (o.family === 'wal' ? segmentSizeBytes : (o.expected.plaintextSizeBytes ?? 0));
  const totalBytes = objects.reduce((sum, o) => sum + sizeOf(o), 0);
  let readBytes = 0;
  const counted = onProgress ? (bytes: number) => onProgress((readBytes += bytes), totalBytes) : undefined;
  onProgress?.(0, totalBytes);
  await forEachBounded(
    objects,
    options.concurrency ?? 4,
    async (object) => {
      try {
        // Await first: `report.bytesChecked += await ...` would read the total before the await and lose updates.
        const bytes = await readThrough(storage, session, cluster, object, signal, counted).catch(async (error: unknown) => {
          const successor = isLifeboatError(error, 'objectNotFound') ? await findSuccessor(storage, cluster, object, signal) : undefined;
          if (successor === undefined) throw error;
          log.info({ key: object.key, successor: successor.key }, 'the archiver replaced the newest partial while verify ran; verifying what replaced it');
          return readThrough(storage, session, cluster, successor, signal, counted);
        });
        report.bytesChecked += bytes;
        report.objectsChecked += 1;
        if (object.family === 'wal') report.walSegmentsChecked += 1;
      } catch (error) {
        if (signal.aborted) throw error;
        const code = isLifeboatError(error) ? error.code : 'internal';
        report.problems.push({ code, subject: object.key, message: describeError(error) });
        log.error({ key: object.key, code }, 'object failed verification');
      }
    },
    signal,
  );
}
