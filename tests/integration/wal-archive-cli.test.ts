// `lifeboat wal archive` as an operator runs it, against a real PostgreSQL 15: one archiver per state folder (a
// second is refused at once naming the first's pid, and disturbs nothing: the first keeps archiving with no gap),
// a live archiver's receiver is never taken for an orphan, the stdout lines (started, archived, stopped), and a
// SIGTERM right after a commit still stores that commit in the partial shipped at stop.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stopOrphanedReceiver } from '../../src/backup/wal-archive/receivewal-process.js';
import { parseLsn, walSegmentOf, type Lsn, type WalSegmentName } from '../../src/postgres/index.js';
import { scanWalSegment } from '../../src/postgres/wal-scan/index.js';
import type { Repository } from '../../src/repository/open-repository.js';
import { registerArchiverSuite } from '../harness/archiver-suite.js';
import type { LifeboatFixture } from '../harness/lifeboat-fixture.js';
import type { PostgresServer } from '../harness/postgres.js';
import { isProcessAlive } from '../harness/process-tree.js';
import type { ServiceProcess } from '../harness/service-process.js';
import { waitFor } from '../harness/wait-for.js';
import {
  findGaps,
  FIRST_TIMELINE as TIMELINE,
  insertFillerRows,
  readStoredPlaintext,
  readStoredWal,
  spoolDirOfFixture,
  startArchiverProcess,
  startInProcessArchiver,
  WAL_SEGMENT_BYTES as SEGMENT_BYTES,
  writeAndSwitch,
  type StoredWal,
} from '../harness/wal-archiver-runner.js';

let pg: PostgresServer;
let fixture: LifeboatFixture;
let repository: Repository;

const captured = registerArchiverSuite({ cli: true }, (suite) => ({ pg, fixture, repository } = suite));

const stored = (): Promise<StoredWal> => readStoredWal(repository.storage, 'main');

/** Fails the wait at once, with its output, if the archiver process has exited. */
async function expectRunning(child: ServiceProcess): Promise<void> {
  if (child.hasExited()) throw new Error(`archiver process ${await child.exited}: ${child.outputTail()}`);
}

async function waitUntilStoredBy(child: ServiceProcess, segment: WalSegmentName): Promise<StoredWal> {
  return waitFor(`segment ${segment} stored by the archiver process`, async () => {
    await expectRunning(child);
    const wal = await stored();
    return wal.objectsPerSegment.has(segment) ? wal : undefined;
  }, { timeoutMs: 60_000 });
}

async function waitStreaming(child: ServiceProcess): Promise<void> {
  await waitFor('the archiver process streaming', async () => {
    await expectRunning(child);
    const [slot] = await pg.query<{ active: boolean }>("select active from pg_replication_slots where slot_name = 'lifeboat'");
    return slot?.active === true;
  }, { timeoutMs: 60_000 });
}

function receiverPid(): number {
  return Number(readFileSync(join(spoolDirOfFixture(fixture), 'receivewal.pid'), 'utf8').trim().split(/\s+/)[0]);
}

function stdoutLines(child: ServiceProcess): string[] {
  return child.stdoutTail().split('\n').filter((line) => line !== '');
}

describe('wal archive CLI', () => {
  it('refuses a second archiver on the same state folder at once, naming the first pid, while the first archives with no gap', async () => {
    const first = startArchiverProcess(fixture);
    try {
      await waitStreaming(first);
      const firstPid = first.child.pid!;
      const receiver = receiverPid();
      // Before: the first archiver stores what it streams.
      const before = await writeAndSwitch(pg);
      await waitUntilStoredBy(first, before);

      // During: WAL keeps coming while the second one starts and is refused.
      const second = startArchiverProcess(fixture);
      const secondStartMs = Date.now();
      let writes = 0;
      try {
        await waitFor('the second archiver to exit', async () => {
          await insertFillerRows(pg, 20);
          writes += 1;
          return second.hasExited();
        }, { timeoutMs: 30_000 });
      } finally {
        await second.stop();
      }
      expect(await second.exited).toBe('exited with status 91');
      const refusedAfterMs = Date.now() - secondStartMs;
      // At once: the time to start node and open the repository, no retrying and no waiting on the first.
      expect(refusedAfterMs).toBeLessThan(15_000);
      expect(second.outputTail()).toMatch(new RegExp(`error\\[locked\\]: another process holds the wal-archive:main lock on .*: pid ${firstPid}, wal archive \\(cluster main\\)`));
      expect(second.outputTail()).not.toMatch(/orphaned pg_receivewal|wal archive started/);
      expect(writes).toBeGreaterThan(0);
      // Nothing of the first was touched: same process, same receiver, never restarted.
      expect(first.hasExited()).toBe(false);
      expect(isProcessAlive(receiver)).toBe(true);
      expect(receiverPid()).toBe(receiver);

      // After: the first archiver goes on, and every segment from before to after is stored once.
      const during = await writeAndSwitch(pg);
      const after = await writeAndSwitch(pg);
      const wal = await waitUntilStoredBy(first, after);
      expect(wal.objectsPerSegment.get(during)).toBe(1);
      expect([...wal.objectsPerSegment].filter(([, count]) => count !== 1)).toEqual([]);
      expect(findGaps(wal.segments, TIMELINE, SEGMENT_BYTES)).toEqual([]);
      const state = JSON.parse(readFileSync(join(fixture.config.stateDir, 'main', 'archiver-state.json'), 'utf8')) as { receiverRestarts: number };
      expect(state.receiverRestarts).toBe(0);
      expect(receiverPid()).toBe(receiver);

      // Its stdout said when it started (with the pid a refusal names), what it archived, and (below) when it stopped.
      await first.stop(30_000);
      // Its receiver had everything the server wrote (the last segment was already stored): no catch-up wait.
      expect(first.outputTail()).not.toContain('did not catch up');
      expect(await first.exited).toMatch(/exited with status (0|90)/);
      const lines = stdoutLines(first);
      expect(lines[0]).toMatch(new RegExp(`^wal archive started: cluster main, slot lifeboat \\(guard lifeboat_guard\\), timeline 1, pid ${firstPid}$`));
      expect(lines[1]).toMatch(/^streaming resumes at [0-9A-F]{24} /);
      const archivedLines = lines.filter((line) => line.startsWith('archived'));
      expect(archivedLines.length).toBeGreaterThan(0);
      for (const line of archivedLines) expect(line).toMatch(/^archived ([0-9A-F]{24}|\d+ segments [0-9A-F]{24} to [0-9A-F]{24}) \(stored [\d.]+ (B|KiB|MiB)(, \d+ already stored)?\), lag /);
      // Every segment this run shipped is counted once in the archived lines (one per segment, or one summary line).
      const shipped = archivedLines.reduce((sum, line) => sum + Number(/^archived (\d+) segments/.exec(line)?.[1] ?? 1), 0);
      const stop = /^stopped: (\d+) segments? archived by this run, stored WAL ends at [0-9A-F]+\/[0-9A-F]+/.exec(lines.at(-1) ?? '');
      expect(stop, lines.join('\n')).not.toBeNull();
      expect(shipped).toBe(Number(stop![1]));
      expect(shipped).toBeGreaterThanOrEqual(3);
    } finally {
      await first.stop();
    }
  }, 180_000);

  it('never ends the receiver of a live archiver, even when asked without the lock', async () => {
    const archiver = startInProcessArchiver({ fixture, storage: repository.storage, keys: repository.keys, log: captured.log });
    try {
      await waitFor('a running receiver', () => archiver.latest()?.receiverRunning === true);
      const receiver = receiverPid();
      const found = await stopOrphanedReceiver(spoolDirOfFixture(fixture));
      expect(found).toEqual({ kind: 'owned', receiverPid: receiver, ownerPid: process.pid, parentPid: process.pid });
      expect(isProcessAlive(receiver)).toBe(true);
      expect(archiver.latest()?.receiverRestarts).toBe(0);
    } finally {
      await archiver.stop();
    }
  }, 60_000);

  it('stores a commit made just before SIGTERM in the partial shipped at stop', async () => {
    const child = startArchiverProcess(fixture);
    let commitSegment: WalSegmentName;
    let beforeCommit: Lsn;
    try {
      await waitStreaming(child);
      // Let the periodic partial upload pass, so that only the shipping at stop can carry the commit.
      await writeAndSwitch(pg);
      const [row] = await pg.query<{ lsn: string }>('select pg_current_wal_insert_lsn()::text as lsn');
      beforeCommit = parseLsn(row!.lsn);
      commitSegment = walSegmentOf(TIMELINE, beforeCommit, SEGMENT_BYTES);
      await insertFillerRows(pg, 1);
      child.child.kill('SIGTERM');
      expect(await child.exited).toMatch(/exited with status (0|90)/);
    } finally {
      await child.stop();
    }
    const wal = await stored();
    const key = wal.partialKeys.get(commitSegment);
    expect(key, `a partial of ${commitSegment} in ${JSON.stringify([...wal.partialKeys.values()])}; ${child.outputTail()}`).toBeDefined();
    const summary = scanWalSegment(await readStoredPlaintext(repository.storage, repository.keys, key!), commitSegment, { segmentSizeBytes: SEGMENT_BYTES });
    // The newest commit record in the stored partial ends after the position taken just before our commit.
    expect(summary.lastXactLsn).toBeDefined();
    expect(summary.lastXactLsn! > beforeCommit).toBe(true);
    expect(stdoutLines(child).at(-1)).toContain(`(partial of ${commitSegment} shipped at stop)`);
  }, 120_000);
});
