// The continuous WAL archiver against a real PostgreSQL 15: segments arrive once each while the guard slot
// never passes what is stored, partials keep the recoverable point within the upload interval, and restarts
// of the archiver or of PostgreSQL, a crash and a lost spool lose no WAL. The reported state tracks lag, also
// while the repository refuses writes. Kill -9 of the archiver, conflicts and gaps: wal-archive-faults.test.ts.
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  formatLsn,
  isWalSegmentName,
  lsnFromBigInt,
  nextWalSegment,
  parseLsn,
  segmentStartLsn,
  walSegmentOf,
  type Lsn,
  type WalSegmentName,
} from '../../src/postgres/index.js';
import { scanWalSegment } from '../../src/postgres/wal-scan/index.js';
import type { Repository } from '../../src/repository/open-repository.js';
import { registerArchiverSuite } from '../harness/archiver-suite.js';
import { createFaultyStorage } from '../harness/faulty-storage.js';
import { pgbench, type LifeboatFixture } from '../harness/lifeboat-fixture.js';
import type { PostgresServer } from '../harness/postgres.js';
import { waitFor } from '../harness/wait-for.js';
import {
  findGaps,
  FIRST_TIMELINE as TIMELINE,
  listSpool,
  readStoredPlaintext,
  readStoredWal,
  spoolDirOfFixture,
  startInProcessArchiver,
  WAL_SEGMENT_BYTES as SEGMENT_BYTES,
  type InProcessArchiver,
  type StoredWal,
  writeAndSwitch as switchWal,
} from '../harness/wal-archiver-runner.js';
import type { Storage } from '../../src/storage/index.js';

let pg: PostgresServer;
let fixture: LifeboatFixture;
let repository: Repository;
let intervalMs: number;

const captured = registerArchiverSuite({}, (suite) => {
  ({ pg, fixture, repository } = suite);
  intervalMs = fixture.config.clusters[0]!.wal.partialUploadIntervalSeconds * 1000;
});

function start(storage: Storage = repository.storage): InProcessArchiver {
  return startInProcessArchiver({ fixture, storage, keys: repository.keys, log: captured.log });
}

async function currentLsn(): Promise<Lsn> {
  const [row] = await pg.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn');
  return parseLsn(row!.lsn);
}

async function guardRestartLsn(): Promise<Lsn | undefined> {
  const [row] = await pg.query<{ lsn: string | null }>("select restart_lsn::text as lsn from pg_replication_slots where slot_name = 'lifeboat_guard'");
  return row?.lsn ? parseLsn(row.lsn) : undefined;
}

/** Commits a few rows, then switches WAL; returns the segment the switch completed. */
const writeAndSwitch = (rows?: number): Promise<WalSegmentName> => switchWal(pg, rows);

async function stored(): Promise<StoredWal> {
  return readStoredWal(repository.storage, 'main');
}

function endOf(segment: WalSegmentName): Lsn {
  return lsnFromBigInt(segmentStartLsn(segment, SEGMENT_BYTES) + BigInt(SEGMENT_BYTES));
}

async function waitUntilStored(segment: WalSegmentName, timeoutMs = 30_000): Promise<StoredWal> {
  return waitFor(`segment ${segment} in the repository`, async () => {
    const wal = await stored();
    return wal.objectsPerSegment.has(segment) ? wal : undefined;
  }, { timeoutMs });
}

/** Every stored segment exactly once, none missing between the first and the last, no partial left of a complete one. */
function expectWholeAndUnique(wal: StoredWal): void {
  expect(wal.segments.length).toBeGreaterThan(0);
  expect([...wal.objectsPerSegment].filter(([, count]) => count !== 1)).toEqual([]);
  expect(findGaps(wal.segments, TIMELINE, SEGMENT_BYTES)).toEqual([]);
  expect([...wal.partials.keys()].filter((segment) => wal.objectsPerSegment.has(segment))).toEqual([]);
}

function completeSegmentsInSpool(): string[] {
  return listSpool(fixture).filter((name) => isWalSegmentName(name));
}

describe('continuous WAL archiving', () => {
  it('stores every segment exactly once under write load, empties the spool, and the guard slot never passes stored WAL', async () => {
    const archiver = start();
    let sampling = true;
    try {
      const initialGuard = await waitFor('the guard slot', guardRestartLsn);
      const violations: string[] = [];
      const seenInSpool = new Set<string>();
      // Samples the invariants while the load runs: the guard first, then the spool, then the repository (which
      // only grows), so a guard past the stored WAL, or a segment gone from the spool unstored, cannot hide.
      const sampler = (async () => {
        while (sampling) {
          const guard = await guardRestartLsn();
          const spool = completeSegmentsInSpool();
          const wal = await stored();
          const firstGap = findGaps(wal.segments, TIMELINE, SEGMENT_BYTES)[0];
          const contiguous = firstGap === undefined ? wal.segments : wal.segments.filter((segment) => segment < firstGap);
          const storedEnd = contiguous.length > 0 ? endOf(contiguous.at(-1)!) : initialGuard;
          if (guard !== undefined && guard > storedEnd && guard > initialGuard) {
            violations.push(`guard at ${formatLsn(guard)} passed the stored WAL ending at ${formatLsn(storedEnd)}`);
          }
          for (const segment of seenInSpool) {
            if (!spool.includes(segment) && !wal.objectsPerSegment.has(segment as WalSegmentName)) violations.push(`${segment} left the spool before it was stored`);
          }
          for (const segment of spool) seenInSpool.add(segment);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      })();
      await pgbench(pg, ['-i', '-s', '2', '-q']);
      const load = pgbench(pg, ['-c', '2', '-T', '4', '-n']);
      for (let i = 0; i < 3; i++) {
        await writeAndSwitch();
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      await load;
      const last = await writeAndSwitch();
      const wal = await waitUntilStored(last, 60_000);
      await waitFor('a spool without complete segments', () => completeSegmentsInSpool().length === 0);
      // Once caught up, the guard sits exactly at the end of the newest stored segment.
      const newest = (await stored()).segments.at(-1)!;
      expect(newest).toBe(last);
      await waitFor('the guard at the end of the newest stored segment', async () => (await guardRestartLsn()) === endOf(newest));
      sampling = false;
      await sampler;
      expect(violations).toEqual([]);
      expect(wal.segments.length).toBeGreaterThanOrEqual(4);
      expectWholeAndUnique(await stored());
      // The name carries the SHA-256 of the plaintext, which is the whole segment as the server wrote it.
      const key = wal.segmentKeys.get(last)!;
      const plaintext = await readStoredPlaintext(repository.storage, repository.keys, key);
      expect(key.endsWith(`${last}-${createHash('sha256').update(plaintext).digest('hex')}`)).toBe(true);
      const [server] = await pg.query<{ id: string }>('select system_identifier::text as id from pg_control_system()');
      expect(scanWalSegment(plaintext, last, { segmentSizeBytes: SEGMENT_BYTES })).toMatchObject({ complete: true, systemIdentifier: server!.id });
      expect(archiver.hasEnded()).toBe(false);
    } finally {
      sampling = false;
      await archiver.stop();
    }
  }, 120_000);

  it('uploads the head segment as a partial within the interval, and deletes its partials once the segment is complete', async () => {
    const archiver = start();
    try {
      await waitFor('a running receiver', () => archiver.latest()?.receiverRunning === true);
      for (let i = 0; i < 3; i++) await pg.query('insert into filler (payload) values ($1)', [`committed ${i}`]);
      const committedLsn = await currentLsn();
      const segment = walSegmentOf(TIMELINE, committedLsn, SEGMENT_BYTES);
      const startedMs = Date.now();
      // The recoverable point trails the primary by at most the interval (plus one poll and the upload itself).
      const wal = await waitFor(
        `a partial of ${segment} reaching ${formatLsn(committedLsn)}`,
        async () => {
          const current = await stored();
          const newest = current.partials.get(segment)?.at(-1);
          return newest !== undefined && newest >= committedLsn ? current : undefined;
        },
        { timeoutMs: intervalMs + 5000, intervalMs: 100 },
      );
      expect(Date.now() - startedMs).toBeLessThan(intervalMs + 5000);
      expect(wal.objectsPerSegment.has(segment)).toBe(false);
      // The name's end LSN is where the stored bytes' valid WAL ends.
      const partialKey = wal.partialKeys.get(segment)!;
      const plaintext = await readStoredPlaintext(repository.storage, repository.keys, partialKey);
      expect(scanWalSegment(plaintext, segment, { segmentSizeBytes: SEGMENT_BYTES }).endLsn).toBe(wal.partials.get(segment)!.at(-1));
      // Older partials of the segment are replaced, not accumulated.
      await waitFor(`one partial of ${segment}`, async () => (await stored()).partials.get(segment)?.length === 1);
      const completed = await writeAndSwitch(1);
      expect(completed).toBe(segment);
      await waitUntilStored(segment);
      await waitFor(`no partial of ${segment} once it is complete`, async () => !(await stored()).partials.has(segment));
      expect(archiver.latest()!.partialsUploaded).toBeGreaterThan(0);
    } finally {
      await archiver.stop();
    }
  }, 60_000);

  it('loses and duplicates nothing across a stop and start of the archiver', async () => {
    let archiver = start();
    const load = pgbench(pg, ['-c', '2', '-T', '3', '-n']);
    await writeAndSwitch();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await archiver.stop();
    // WAL written while no archiver runs is kept by the guard slot and streamed after the start.
    await load;
    const whileStopped = [await writeAndSwitch(), await writeAndSwitch()];
    archiver = start();
    try {
      const last = await writeAndSwitch();
      const wal = await waitUntilStored(last);
      for (const segment of whileStopped) expect(wal.objectsPerSegment.get(segment)).toBe(1);
      expectWholeAndUnique(wal);
    } finally {
      await archiver.stop();
    }
  }, 60_000);

  it('keeps archiving across a PostgreSQL restart and a crash, restarting pg_receivewal', async () => {
    const archiver = start();
    try {
      await waitFor('a running receiver', () => archiver.latest()?.receiverRunning === true);
      const before = await writeAndSwitch();
      await pg.restart();
      const afterRestart = await writeAndSwitch();
      await waitUntilStored(afterRestart, 60_000);
      await pg.query('insert into filler (payload) values ($1)', ['committed before the crash']);
      const crashLsn = await currentLsn();
      await pg.kill9();
      await pg.start();
      const afterCrash = await writeAndSwitch();
      const wal = await waitUntilStored(afterCrash, 60_000);
      expect(wal.objectsPerSegment.get(before)).toBe(1);
      expect(wal.segments.at(-1)! >= walSegmentOf(TIMELINE, crashLsn, SEGMENT_BYTES)).toBe(true);
      expectWholeAndUnique(wal);
      expect(archiver.hasEnded()).toBe(false);
      expect(archiver.latest()!.receiverRestarts).toBeGreaterThanOrEqual(2);
    } finally {
      await archiver.stop();
    }
  }, 120_000);

  it('resumes at the first segment the repository lacks when the spool is lost', async () => {
    let archiver = start();
    await waitUntilStored(await writeAndSwitch());
    await archiver.stop();
    const newestBefore = (await stored()).segments.at(-1)!;
    rmSync(spoolDirOfFixture(fixture), { recursive: true, force: true });
    const whileStopped = [await writeAndSwitch(), await writeAndSwitch()];
    const resumes = captured.withMessage('streaming resumes at this segment').length;
    archiver = start();
    try {
      const last = await writeAndSwitch();
      const wal = await waitUntilStored(last);
      // Seeded exactly at the first segment the repository lacked: nothing skipped, nothing streamed twice.
      expect(captured.withMessage('streaming resumes at this segment').slice(resumes)).toMatchObject([{ segment: nextWalSegment(newestBefore), continues: true }]);
      expect(whileStopped[0]).toBe(nextWalSegment(newestBefore));
      for (const segment of whileStopped) expect(wal.objectsPerSegment.get(segment)).toBe(1);
      expectWholeAndUnique(wal);
    } finally {
      await archiver.stop();
    }
  }, 60_000);

  it('reports the archived position and lag, which grows while the repository refuses writes and recovers after', async () => {
    const storage = createFaultyStorage(repository.storage);
    const archiver = start(storage);
    try {
      const caughtUp = await waitFor('a caught-up state', () => {
        const state = archiver.latest();
        return state?.lastArchivedLsn !== undefined && state.lagBytes < 64 * 1024 ? state : undefined;
      }, { timeoutMs: intervalMs + 10_000 });
      expect(caughtUp.lastArchivedSegment).toBe((await stored()).segments.at(-1));
      expect(caughtUp.lagSeconds).toBeLessThan(intervalMs / 1000 + 5);
      expect(caughtUp.receiverRunning).toBe(true);

      storage.setFailing(true);
      const putsBefore = storage.putKeys.length;
      const blocked = [await writeAndSwitch(), await writeAndSwitch()];
      const lagging = await waitFor('lag of more than a segment', () => {
        const state = archiver.latest();
        return state !== undefined && state.lagBytes > SEGMENT_BYTES && state.lagSeconds >= 1 ? state : undefined;
      });
      // The lag keeps growing in seconds while nothing can be stored, and the archiver stays up.
      await waitFor('lag growing in seconds', () => (archiver.latest()?.lagSeconds ?? 0) >= lagging.lagSeconds + 1);
      expect(archiver.hasEnded()).toBe(false);
      expect(archiver.latest()!.lastError).toMatch(/injected outage/);
      expect(archiver.latest()!.lastArchivedSegment).toBe(caughtUp.lastArchivedSegment);
      expect(storage.putKeys.length).toBe(putsBefore);

      storage.setFailing(false);
      const recovered = await waitFor('the lag to recover', () => {
        const state = archiver.latest();
        return state !== undefined && state.lastArchivedSegment === blocked[1] && state.lagBytes < SEGMENT_BYTES ? state : undefined;
      }, { timeoutMs: 60_000 });
      expect(parseLsn(recovered.lastArchivedLsn!) >= endOf(blocked[1]!)).toBe(true);
      expectWholeAndUnique(await stored());
    } finally {
      await archiver.stop();
    }
  }, 120_000);
});
