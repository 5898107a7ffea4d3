// `lifeboat verify`: reads every object of the chosen backups and the WAL they need, checking both checksums and
// every authentication tag, and WAL contiguity per timeline from each backup's start to the newest archived
// segment. Every problem is reported with the exact object or segment name; nothing is repaired.
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import { createDecryptionSession, type DecryptionSession, type KeyProvider } from '../crypto/index.js';
import { LifeboatError, describeError, isLifeboatError } from '../errors/index.js';
import { readObject, type ExpectedChecksums } from '../pipeline/index.js';
import { nextWalSegment, type WalSegmentName } from '../postgres/index.js';
import { loadBackupCatalog } from '../repository/backup-catalog.js';
import type { BackupManifest } from '../repository/backup-manifest.js';
import { loadClusterIdentity } from '../repository/cluster-identity.js';
import { listArchivedWal, type ArchivedWal } from '../repository/list-archived-wal.js';
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

/** WAL from `from` to the newest segment on its timeline: what is stored, what is missing. */
function walNeeded(wal: ArchivedWal, from: WalSegmentName, segmentSizeBytes: number): { present: WalSegmentName[]; missing: WalSegmentName[] } {
  const newest = [...wal.segments.keys()].filter((name) => name.startsWith(from.slice(0, 8))).sort().at(-1);
  const present: WalSegmentName[] = [];
  const missing: WalSegmentName[] = [];
  if (newest === undefined || newest < from) {
    if (!wal.partials.has(from)) missing.push(from);
    return { present, missing };
  }
  for (let segment = from; ; segment = nextWalSegment(segment, segmentSizeBytes)) {
    (wal.segments.has(segment) ? present : missing).push(segment);
    if (segment === newest) break;
  }
  return { present, missing };
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

  // 1. What to read: every part of every chosen backup, every sealed segment, and the WAL from each start on.
  const objects = new Map<string, ObjectToCheck>();
  const missing = new Set<string>();
  for (const manifest of chosen) {
    if (manifest.type === 'full') {
      for (const part of manifest.parts) objects.set(part.key, { key: part.key, expected: part, family: 'base', backupId: manifest.backupId });
      const needed = walNeeded(wal, manifest.startSegment as WalSegmentName, identity.walSegmentSizeBytes);
      needed.missing.forEach((segment) => missing.add(segment));
      for (const segment of needed.present) {
        const stored = wal.segments.get(segment)!;
        objects.set(stored.key, { key: stored.key, expected: { plaintextSha256: stored.sha256 }, family: 'wal' });
      }
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

  // 2. Read everything through the full verification pipeline, a few at a time; collect, never stop early.
  const session = createDecryptionSession(options.keys, { expectedScope: { cluster }, signal });
  const sizeOf = (o: ObjectToCheck): number => (o.family === 'wal' ? identity.walSegmentSizeBytes : (o.expected.plaintextSizeBytes ?? 0));
  const totalBytes = [...objects.values()].reduce((sum, o) => sum + sizeOf(o), 0);
  let readBytes = 0;
  const { onProgress } = options;
  const counted = onProgress ? (bytes: number) => onProgress((readBytes += bytes), totalBytes) : undefined;
  onProgress?.(0, totalBytes);
  try {
    await forEachBounded(
      [...objects.values()],
      options.concurrency ?? 4,
      async (object) => {
        try {
          // Await first: `report.bytesChecked += await ...` would read the total before the await and lose updates.
          const bytes = await readThrough(storage, session, cluster, object, signal, counted);
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
  } finally {
    session.close();
  }
  report.ok = report.problems.length === 0;
  return report;
}
