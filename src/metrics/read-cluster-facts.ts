// What /metrics reports about one cluster, read from where it is true for every daemon: backups, bytes read from
// PostgreSQL and stored, the recoverable window and the last restore drill from the repository, the last successful verify from the shared run records,
// and WAL archive lag from the archiver's state file in this daemon's state folder. Pure reading, no metrics code.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { WalArchiveState } from '../backup/wal-archive/archiver-state.js';
import { createDecryptionSession } from '../crypto/index.js';
import { loadLatestDrillResult } from '../drills/history/load-drill-results.js';
import { segmentStartLsn } from '../postgres/index.js';
import { loadBackupCatalog } from '../repository/backup-catalog.js';
import { loadClusterIdentity } from '../repository/cluster-identity.js';
import { describeClusterContents } from '../repository/describe-cluster.js';
import { listArchivedWal, type ArchivedWal } from '../repository/list-archived-wal.js';
import type { Repository } from '../repository/open-repository.js';
import type { RunRecord } from '../jobs/run-record.js';

/** A backup kind as the catalog tells them apart (diff and incr both seal WAL into an increment: `incr`). */
export type CatalogKind = 'full' | 'incr';

export interface LastSuccess {
  /** When it ended, Unix seconds. */
  endSeconds: number;
  durationSeconds: number;
}

export interface ClusterFacts {
  cluster: string;
  lastSuccess: Partial<Record<CatalogKind | 'verify', LastSuccess>>;
  backups: Record<CatalogKind, number>;
  /**
   * Bytes stored, compressed and encrypted. `incr` is the archived WAL sealed into increments: the same objects
   * as `wal`, so never add the two.
   */
  storedBytes: Record<CatalogKind | 'wal', number>;
  /**
   * Bytes read from PostgreSQL for what the repository holds, before compression and encryption: `full` the base
   * backups' tar streams, `wal` the WAL its segments and newest partials cover. An increment reads nothing from
   * PostgreSQL (it seals WAL already archived), so it has no entry.
   */
  readBytes: Record<'full' | 'wal', number>;
  windowEarliestSeconds?: number;
  windowLatestSeconds?: number;
  /** When the newest WAL segment or partial was stored in the repository. */
  newestWalStoredSeconds?: number;
  /** The newest restore drill stored in the repository (`drill history`), if any. */
  lastDrill?: DrillFacts;
}

export interface DrillFacts {
  /** When it finished, Unix seconds. */
  finishedSeconds: number;
  /** 1 passed (or not applicable), 0 failed. */
  passed: number;
  rpoSeconds?: number;
  rtoSeconds?: number;
}

const seconds = (iso: string): number => Date.parse(iso) / 1000;

/** The catalog facts of `cluster`: one listing of backups and WAL (the same reads as `backups list`). */
export async function readCatalogFacts(repository: Repository, cluster: string, signal: AbortSignal): Promise<ClusterFacts> {
  const { storage } = repository;
  const [identity, manifests, wal] = await Promise.all([loadClusterIdentity(storage, cluster, signal), loadBackupCatalog(storage, cluster, signal), listArchivedWal(storage, cluster, signal)]);
  const session = createDecryptionSession(repository.keys, { expectedScope: { cluster }, signal });
  try {
    const catalog = await describeClusterContents(storage, session, cluster, { identity, manifests, wal }, signal);
    const facts: ClusterFacts = { cluster, lastSuccess: {}, backups: { full: 0, incr: 0 }, storedBytes: { full: 0, incr: 0, wal: 0 }, readBytes: { full: 0, wal: 0 } };
    for (const entry of catalog.backups) {
      const kind: CatalogKind = entry.type === 'full' ? 'full' : 'incr';
      facts.backups[kind] += 1;
      facts.storedBytes[kind] += entry.storedSizeBytes;
      // A full entry's sizeBytes is its manifest's tarSizeBytes: what pg_basebackup streamed.
      if (kind === 'full') facts.readBytes.full += entry.sizeBytes;
      // Oldest first: the last one seen is the newest.
      facts.lastSuccess[kind] = { endSeconds: seconds(entry.stopTime), durationSeconds: Math.max(0, seconds(entry.stopTime) - seconds(entry.startTime)) };
    }
    for (const segment of wal.segments.values()) facts.storedBytes.wal += segment.storedSizeBytes;
    for (const partials of wal.partials.values()) for (const partial of partials) facts.storedBytes.wal += partial.storedSizeBytes;
    if (identity) facts.readBytes.wal = walBytesCovered(wal, identity.walSegmentSizeBytes);
    if (wal.newestStoredTime) facts.newestWalStoredSeconds = wal.newestStoredTime.getTime() / 1000;
    if (catalog.window?.earliest.time) facts.windowEarliestSeconds = seconds(catalog.window.earliest.time);
    if (catalog.window?.latest.time) facts.windowLatestSeconds = seconds(catalog.window.latest.time);
    const { result: drill } = await loadLatestDrillResult(storage, session, cluster, signal);
    if (drill) {
      facts.lastDrill = {
        finishedSeconds: seconds(drill.finishedTime),
        passed: drill.outcome === 'failed' ? 0 : 1,
        ...(drill.rpo.seconds !== undefined ? { rpoSeconds: drill.rpo.seconds } : {}),
        ...(drill.rto.seconds !== undefined ? { rtoSeconds: drill.rto.seconds } : {}),
      };
    }
    return facts;
  } finally {
    session.close();
  }
}

/**
 * WAL bytes the archived objects cover: a whole segment each, and for a segment only partials hold, its newest
 * partial's end (older partials and the partials of a segment since completed are earlier copies of the same WAL).
 */
export function walBytesCovered(wal: Pick<ArchivedWal, 'segments' | 'partials'>, segmentSizeBytes: number): number {
  let bytes = wal.segments.size * segmentSizeBytes;
  for (const [segment, partials] of wal.partials) {
    const newest = partials.at(-1);
    if (!newest || wal.segments.has(segment)) continue;
    bytes += Number(newest.endLsn - segmentStartLsn(segment, segmentSizeBytes));
  }
  return bytes;
}

/** The newest successful verify of `cluster` among the run records (verify leaves nothing in the repository). */
export function lastVerify(records: readonly RunRecord[], cluster: string): LastSuccess | undefined {
  const done = records.find((r) => r.cluster === cluster && r.kind === 'verify' && r.state === 'done' && r.endedAt);
  if (!done?.endedAt) return undefined;
  const end = seconds(done.endedAt);
  return { endSeconds: end, durationSeconds: done.startedAt ? Math.max(0, end - seconds(done.startedAt)) : 0 };
}

/** The archiver's state file for `cluster` in `stateDir`, or undefined when no archiver ran there. */
export async function readArchiverState(stateDir: string, cluster: string): Promise<WalArchiveState | undefined> {
  try {
    return JSON.parse(await readFile(join(stateDir, cluster, 'archiver-state.json'), 'utf8')) as WalArchiveState;
  } catch {
    return undefined;
  }
}

