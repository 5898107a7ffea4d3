// Runs Lifeboat's WAL archiver for integration tests: in this process (abortable, every state it reports kept)
// or as a `lifeboat wal archive` child process a test can SIGKILL. Also reads back, from a plain listing,
// what WAL the repository holds, so tests can check "each segment exactly once, no gap".
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { runWalArchive, spoolDirOf } from '../../src/backup/wal-archive/run-wal-archive.js';
import type { WalArchiveState } from '../../src/backup/wal-archive/archiver-state.js';
import { createDecryptionSession, type KeyProvider } from '../../src/crypto/index.js';
import { readObject } from '../../src/pipeline/index.js';
import { isWalSegmentName, lsnFromBigInt, segmentStartLsn, toTimelineId, type Lsn, type TimelineId, type WalSegmentName } from '../../src/postgres/index.js';
import { segmentsBetween } from '../../src/repository/find-wal-gaps.js';
import type { PostgresServer } from './postgres.js';
import { parseWalKey, walRootPrefix, type Storage } from '../../src/storage/index.js';
import type { LifeboatFixture } from './lifeboat-fixture.js';
import { startServiceProcess, type ServiceProcess } from './service-process.js';

const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

/** The test servers' WAL segment size (wal_segment_size): PostgreSQL's default, 16 MiB. */
export const WAL_SEGMENT_BYTES = 16 * 1024 * 1024;

/** The timeline a test server runs on until a test promotes it (promote-timeline.ts). */
export const FIRST_TIMELINE = toTimelineId(1);

/** The archiver running inside the test process. */
export interface InProcessArchiver {
  /** Every state reported through onState, oldest first. */
  readonly states: WalArchiveState[];
  latest(): WalArchiveState | undefined;
  /** Settles when runWalArchive returns: with the error it stopped on, or undefined after a clean stop. */
  readonly ended: Promise<unknown>;
  hasEnded(): boolean;
  /** Abort and wait for the graceful stop; rethrows the error if the archiver had failed. */
  stop(): Promise<void>;
}

export interface InProcessArchiverOptions {
  fixture: LifeboatFixture;
  storage: Storage;
  keys: KeyProvider;
  log: Logger;
  /** Cycle period; default 200 ms so tests see changes quickly. */
  pollMs?: number;
}

export function startInProcessArchiver(options: InProcessArchiverOptions): InProcessArchiver {
  const controller = new AbortController();
  const states: WalArchiveState[] = [];
  let ended = false;
  const cluster = options.fixture.config.clusters[0]!;
  const running = runWalArchive({
    config: options.fixture.config,
    cluster,
    storage: options.storage,
    keys: options.keys,
    log: options.log,
    signal: controller.signal,
    pollMs: options.pollMs ?? 200,
    onState: (state) => states.push(state),
  });
  const settled = running.then(
    () => undefined,
    (error: unknown) => error,
  );
  void settled.then(() => (ended = true));
  return {
    states,
    latest: () => states.at(-1),
    ended: settled,
    hasEnded: () => ended,
    async stop() {
      controller.abort();
      await running;
    },
  };
}

/** The spool folder of the fixture's (only) cluster. */
export function spoolDirOfFixture(fixture: LifeboatFixture): string {
  return spoolDirOf(fixture.config, fixture.config.clusters[0]!);
}

/** Names in the spool, sorted; empty when the folder does not exist. */
export function listSpool(fixture: LifeboatFixture): string[] {
  try {
    return readdirSync(spoolDirOfFixture(fixture)).sort();
  } catch {
    return [];
  }
}

function newestMtimeMs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtimeMs(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Makes sure dist/ (what bin/lifeboat.js runs) is at least as new as src/: `npm test` builds before vitest,
 * a direct `npx vitest run` may not have. Type errors elsewhere in src do not stop tsc from emitting.
 */
export function ensureCliBuilt(): void {
  const entry = join(REPO_ROOT, 'dist', 'backup', 'wal-archive', 'run-wal-archive.js');
  let builtMs = 0;
  try {
    builtMs = statSync(entry).mtimeMs;
  } catch {
    builtMs = 0;
  }
  if (builtMs >= newestMtimeMs(join(REPO_ROOT, 'src'))) return;
  try {
    execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: REPO_ROOT, stdio: 'pipe' });
  } catch (error) {
    // Emitted anyway; only a missing output is fatal here.
    if (statSync(entry, { throwIfNoEntry: false }) === undefined) throw error;
  }
}

/** `lifeboat --config <fixture> wal archive` as a child process (logs at info level in its output tail). */
export function startArchiverProcess(fixture: LifeboatFixture): ServiceProcess {
  return startServiceProcess({
    command: process.execPath,
    args: [join(REPO_ROOT, 'bin', 'lifeboat.js'), '--config', fixture.configPath, 'wal', 'archive'],
    env: { ...fixture.env, LIFEBOAT_LOG_LEVEL: 'info' },
    cwd: fixture.dir,
  });
}

/** What the repository holds for a cluster on one timeline, from a listing. */
export interface StoredWal {
  /** Complete segments, sorted. */
  segments: WalSegmentName[];
  /** How many segment objects each segment name has (must be exactly one). */
  objectsPerSegment: Map<WalSegmentName, number>;
  /** The key of each segment's (first) object. */
  segmentKeys: Map<WalSegmentName, string>;
  /** Partial end LSNs per segment, ascending. */
  partials: Map<WalSegmentName, Lsn[]>;
  /** The key of each segment's newest partial. */
  partialKeys: Map<WalSegmentName, string>;
  /** Timelines with a stored history file. */
  historyTimelines: number[];
}

export async function readStoredWal(storage: Storage, cluster: string, timeline = 1): Promise<StoredWal> {
  const objectsPerSegment = new Map<WalSegmentName, number>();
  const segmentKeys = new Map<WalSegmentName, string>();
  const partials = new Map<WalSegmentName, Lsn[]>();
  const partialKeys = new Map<WalSegmentName, string>();
  const historyTimelines: number[] = [];
  for await (const object of storage.list(walRootPrefix(cluster))) {
    const parsed = parseWalKey(object.key);
    if (!parsed) continue;
    if (parsed.kind === 'history') {
      historyTimelines.push(parsed.timeline);
      continue;
    }
    if (parsed.timeline !== timeline || !isWalSegmentName(parsed.segmentName)) continue;
    if (parsed.kind === 'segment') {
      objectsPerSegment.set(parsed.segmentName, (objectsPerSegment.get(parsed.segmentName) ?? 0) + 1);
      if (!segmentKeys.has(parsed.segmentName)) segmentKeys.set(parsed.segmentName, object.key);
    } else {
      const list = partials.get(parsed.segmentName) ?? [];
      const endLsn = lsnFromBigInt(BigInt(`0x${parsed.endLsnHex}`));
      if (list.every((other) => other < endLsn)) partialKeys.set(parsed.segmentName, object.key);
      list.push(endLsn);
      list.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      partials.set(parsed.segmentName, list);
    }
  }
  return { segments: [...objectsPerSegment.keys()].sort(), objectsPerSegment, segmentKeys, partials, partialKeys, historyTimelines };
}

/** The plaintext of a stored object, decrypted and decompressed by Lifeboat's own read path (no checks asked). */
export async function readStoredPlaintext(storage: Storage, keys: KeyProvider, key: string): Promise<Buffer> {
  const session = createDecryptionSession(keys);
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of readObject({ storage, key, session })) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  } finally {
    session.close();
  }
}

/** Segments missing between the first and the last stored one on `timeline` (a gap), by find-wal-gaps. */
export function findGaps(segments: readonly WalSegmentName[], timeline: TimelineId, segmentSizeBytes: number): WalSegmentName[] {
  const first = segments[0];
  const last = segments.at(-1);
  if (first === undefined || last === undefined) return [];
  const end = lsnFromBigInt(segmentStartLsn(last, segmentSizeBytes) + BigInt(segmentSizeBytes));
  const present = new Set(segments);
  return segmentsBetween(timeline, segmentStartLsn(first, segmentSizeBytes), end, segmentSizeBytes).filter((segment) => !present.has(segment));
}

/** Commits `rows` rows into the archiver tests' `filler` table (created by registerArchiverSuite, archiver-suite.ts). */
export async function insertFillerRows(pg: PostgresServer, rows = 50): Promise<void> {
  await pg.query('insert into filler (payload) select repeat(md5(g::text), 4) from generate_series(1, $1) g', [rows]);
}

/** Commits a few filler rows, then switches WAL; returns the segment the switch completed. */
export async function writeAndSwitch(pg: PostgresServer, rows = 50): Promise<WalSegmentName> {
  await insertFillerRows(pg, rows);
  const [row] = await pg.query<{ name: string }>('select pg_walfile_name(pg_switch_wal()) as name');
  return row!.name as WalSegmentName;
}
