// The WAL archiver's hard cases against a real PostgreSQL 15: an archiver process killed with SIGKILL leaves
// pg_receivewal orphaned and the next archiver ends it and continues without loss; a different object under
// a segment's name stops the archiver without uploading; WAL the server already removed is a named gap.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { seedSpool } from '../../src/backup/wal-archive/seed-spool.js';
import { isLifeboatError } from '../../src/errors/index.js';
import { nextWalSegment, parseLsn, parseWalSegment, walSegmentName, walSegmentOf, type WalSegmentName } from '../../src/postgres/index.js';
import type { Repository } from '../../src/repository/open-repository.js';
import { walSegmentKey } from '../../src/storage/index.js';
import { registerArchiverSuite } from '../harness/archiver-suite.js';
import { createFaultyStorage } from '../harness/faulty-storage.js';
import type { LifeboatFixture } from '../harness/lifeboat-fixture.js';
import type { PostgresServer } from '../harness/postgres.js';
import { isProcessAlive } from '../harness/process-tree.js';
import { waitFor } from '../harness/wait-for.js';
import {
  findGaps,
  FIRST_TIMELINE as TIMELINE,
  listSpool,
  readStoredWal,
  spoolDirOfFixture,
  startArchiverProcess,
  startInProcessArchiver,
  WAL_SEGMENT_BYTES as SEGMENT_BYTES,
  type InProcessArchiver,
  type StoredWal,
  insertFillerRows,
  writeAndSwitch as switchWal,
} from '../harness/wal-archiver-runner.js';
import type { Storage } from '../../src/storage/index.js';

let pg: PostgresServer;
let fixture: LifeboatFixture;
let repository: Repository;

// Small WAL retention so that, once the slots are gone, a few checkpoints really remove old segments.
const captured = registerArchiverSuite({ cli: true, postgres: { settings: { max_wal_size: '32MB', min_wal_size: '32MB', wal_keep_size: '0' } } }, (suite) => ({ pg, fixture, repository } = suite));

function start(storage: Storage = repository.storage): InProcessArchiver {
  return startInProcessArchiver({ fixture, storage, keys: repository.keys, log: captured.log });
}

const insertRows = (rows?: number): Promise<void> => insertFillerRows(pg, rows);
const writeAndSwitch = (): Promise<WalSegmentName> => switchWal(pg);

async function stored(): Promise<StoredWal> {
  return readStoredWal(repository.storage, 'main');
}

async function waitUntilStored(segment: WalSegmentName): Promise<StoredWal> {
  return waitFor(`segment ${segment} in the repository`, async () => {
    const wal = await stored();
    return wal.objectsPerSegment.has(segment) ? wal : undefined;
  });
}

function expectWholeAndUnique(wal: StoredWal): void {
  expect([...wal.objectsPerSegment].filter(([, count]) => count !== 1)).toEqual([]);
  expect(findGaps(wal.segments, TIMELINE, SEGMENT_BYTES)).toEqual([]);
}

async function oldestServerSegment(): Promise<WalSegmentName> {
  const [row] = await pg.query<{ name: string }>("select min(name) as name from pg_ls_waldir() where name ~ '^[0-9A-F]{24}$'");
  return row!.name as WalSegmentName;
}

async function slotActive(): Promise<boolean | undefined> {
  const [slot] = await pg.query<{ active: boolean }>("select active from pg_replication_slots where slot_name = 'lifeboat'");
  return slot?.active;
}

function previousSegment(segment: WalSegmentName): WalSegmentName {
  const { timeline, segno } = parseWalSegment(segment, SEGMENT_BYTES);
  return walSegmentName(timeline, segno - 1n, SEGMENT_BYTES);
}

describe('WAL archiver faults', () => {
  it('ends the pg_receivewal a SIGKILLed archiver process left behind, and continues without loss or duplicates', async () => {
    const child = startArchiverProcess(fixture);
    const pidFile = join(spoolDirOfFixture(fixture), 'receivewal.pid');
    let orphanPid: number;
    try {
      await waitFor('the archiver process streaming', async () => {
        if (child.hasExited()) throw new Error(`archiver process ${await child.exited}: ${child.outputTail()}`);
        return (await slotActive()) === true;
      });
      const first = await writeAndSwitch();
      await waitFor(`segment ${first} stored by the archiver process`, async () => {
        if (child.hasExited()) throw new Error(`archiver process ${await child.exited}: ${child.outputTail()}`);
        return (await stored()).objectsPerSegment.has(first);
      });
      // The pid file names the receiver and its owner, the archiver process.
      const [receiverPid, ownerPid] = readFileSync(pidFile, 'utf8').trim().split(/\s+/).map(Number);
      expect(ownerPid).toBe(child.child.pid);
      orphanPid = receiverPid!;
      child.child.kill('SIGKILL');
      expect(await child.exited).toBe('killed by SIGKILL');
    } finally {
      await child.stop();
    }
    // The receiver outlives its parent and still holds the streaming slot.
    expect(isProcessAlive(orphanPid)).toBe(true);
    expect(readFileSync(`/proc/${orphanPid}/cmdline`, 'utf8')).toContain('pg_receivewal');
    expect(await slotActive()).toBe(true);
    // WAL committed while only the orphan runs (no segment switch: an orphan dies on its next log line).
    await insertRows();
    const [row] = await pg.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn');
    const orphanTimeSegment = walSegmentOf(TIMELINE, parseLsn(row!.lsn), SEGMENT_BYTES);

    const archiver = start();
    try {
      await waitFor('the orphan to be gone', () => !isProcessAlive(orphanPid));
      expect(captured.withMessage('terminated an orphaned pg_receivewal')).toMatchObject([{ pid: orphanPid }]);
      // The orphan's walsender may take a moment to release the slot on a loaded host, so the first new receiver
      // can fail once and be restarted; what matters is that a receiver of our own runs and nothing is lost.
      await waitFor('a new receiver of our own', () => {
        if (archiver.latest()?.receiverRunning !== true) return false;
        try {
          const pid = Number(readFileSync(pidFile, 'utf8').trim().split(/\s+/)[0]);
          return pid !== orphanPid && isProcessAlive(pid);
        } catch {
          return false;
        }
      });
      expect(await writeAndSwitch()).toBe(orphanTimeSegment);
      const last = await writeAndSwitch();
      const wal = await waitUntilStored(last);
      expect(wal.objectsPerSegment.get(orphanTimeSegment)).toBe(1);
      expectWholeAndUnique(wal);
    } finally {
      await archiver.stop();
    }
  }, 90_000);

  it('stops with objectExists naming the segment when another object holds its name, and uploads nothing for it', async () => {
    let archiver = start();
    await waitFor('a running receiver', () => archiver.latest()?.receiverRunning === true);
    await archiver.stop();
    // The head segment completes on the server while no archiver runs; meanwhile someone else's copy appears.
    const head = listSpool(fixture).find((name) => name.endsWith('.partial'))!.slice(0, 24) as WalSegmentName;
    expect(await writeAndSwitch()).toBe(head);
    const foreignKey = walSegmentKey('main', head, 'ab'.repeat(32));
    await repository.storage.put(foreignKey, Buffer.from('another history of this segment'), { createOnly: true });

    const storage = createFaultyStorage(repository.storage);
    archiver = start(storage);
    await waitFor('the archiver to stop on the conflict', () => archiver.hasEnded());
    const error = await archiver.ended;
    expect(isLifeboatError(error, 'objectExists')).toBe(true);
    expect((error as Error).message).toContain(head);
    // Kept locally, never uploaded, and the foreign object is the only one under the name.
    expect(listSpool(fixture)).toContain(head);
    expect(storage.putKeys.filter((key) => key.includes(head))).toEqual([]);
    expect((await stored()).objectsPerSegment.get(head)).toBe(1);
    // A restart does not retry its way past it either.
    archiver = start(storage);
    await waitFor('the archiver to stop on the conflict again', () => archiver.hasEnded());
    const again = await archiver.ended;
    expect(isLifeboatError(again, 'objectExists')).toBe(true);
    expect(storage.putKeys.filter((key) => key.includes(head))).toEqual([]);
    await repository.storage.delete([foreignKey]);
  }, 60_000);

  it('stops and names the lost segments when the server no longer has the WAL the repository lacks', async () => {
    rmSync(spoolDirOfFixture(fixture), { recursive: true, force: true });
    const newestStored = (await stored()).segments.at(-1)!;
    const firstLost = nextWalSegment(newestStored);
    // Without the slots nothing holds old WAL: a few switches and checkpoints remove it.
    await pg.query("select pg_drop_replication_slot('lifeboat'), pg_drop_replication_slot('lifeboat_guard')");
    await waitFor(`the server to remove ${firstLost}`, async () => {
      await writeAndSwitch();
      await pg.query('checkpoint');
      return (await oldestServerSegment()) > nextWalSegment(firstLost);
    });

    // Empty spool: the seed finds the gap before streaming anything.
    let archiver = start();
    await waitFor('the archiver to stop on the gap', () => archiver.hasEnded());
    let error = await archiver.ended;
    let oldest = await oldestServerSegment();
    expect(isLifeboatError(error, 'postgresConfig')).toBe(true);
    expect((error as Error).message).toContain(`segments ${firstLost} to ${previousSegment(oldest)} are lost`);
    expect(listSpool(fixture).filter((name) => name.includes('0000000'))).toEqual([]);

    // A spool whose head the server removed: pg_receivewal's refusal becomes the same named gap.
    rmSync(spoolDirOfFixture(fixture), { recursive: true, force: true });
    mkdirSync(spoolDirOfFixture(fixture), { recursive: true });
    await seedSpool(spoolDirOfFixture(fixture), firstLost, SEGMENT_BYTES);
    archiver = start();
    await waitFor('the archiver to stop on the gap again', () => archiver.hasEnded());
    error = await archiver.ended;
    oldest = await oldestServerSegment();
    expect(isLifeboatError(error, 'postgresConfig')).toBe(true);
    expect((error as Error).message).toContain(`segments ${firstLost} to ${previousSegment(oldest)} are lost`);
    // Nothing after the gap was stored: no silent skip.
    expect((await stored()).segments.at(-1)).toBe(newestStored);
  }, 90_000);
});
