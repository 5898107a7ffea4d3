// The WAL archiver across a timeline switch on a real PostgreSQL 15 (made cheaply on the same server, see
// tests/harness/promote-timeline.ts), and after a failover no archiver saw, resumed from an empty spool.
// The archive must then hold the 00000002.history file, timeline 1 up to the switch, and timeline 2 after it.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nextWalSegment, parseLsn, toTimelineId, walSegmentOf, type WalSegmentName } from '../../src/postgres/index.js';
import type { Repository } from '../../src/repository/open-repository.js';
import { registerArchiverSuite } from '../harness/archiver-suite.js';
import type { LifeboatFixture } from '../harness/lifeboat-fixture.js';
import type { PostgresServer } from '../harness/postgres.js';
import { currentTimeline as currentTimelineOf, promoteToNextTimeline } from '../harness/promote-timeline.js';
import { waitFor } from '../harness/wait-for.js';
import {
  findGaps,
  listSpool,
  readStoredWal,
  spoolDirOfFixture,
  startInProcessArchiver,
  WAL_SEGMENT_BYTES as SEGMENT_BYTES,
  writeAndSwitch as switchWal,
  type StoredWal,
} from '../harness/wal-archiver-runner.js';

let pg: PostgresServer;
let fixture: LifeboatFixture;
let repository: Repository;

const captured = registerArchiverSuite({}, (suite) => ({ pg, fixture, repository } = suite));

const writeAndSwitch = (): Promise<WalSegmentName> => switchWal(pg);

async function waitUntilStored(segment: WalSegmentName, timeline: number): Promise<StoredWal> {
  return waitFor(`segment ${segment} in the repository`, async () => {
    const wal = await readStoredWal(repository.storage, 'main', timeline);
    return wal.objectsPerSegment.has(segment) ? wal : undefined;
  });
}

const currentTimeline = (): Promise<number> => currentTimelineOf(pg);
const switchTimeline = (next = 2): Promise<void> => promoteToNextTimeline(pg, next);

describe('WAL archiving across a timeline switch', () => {
  it('archives the history file and both timelines without a gap', async (context) => {
    // recovery.signal is written straight into the data directory, which only the local runtime exposes.
    if (pg.runtime !== 'local') context.skip();
    const archiver = startInProcessArchiver({ fixture, storage: repository.storage, keys: repository.keys, log: captured.log });
    try {
      await waitFor('a running receiver', () => archiver.latest()?.receiverRunning === true);
      await waitUntilStored(await writeAndSwitch(), 1);
      await pg.query('insert into filler (payload) values ($1)', ['last commit on timeline 1']);

      await switchTimeline();
      const [history] = await pg.query<{ content: string }>("select pg_read_file('pg_wal/00000002.history') as content");
      const switchLsn = parseLsn(history!.content.trim().split(/\s+/)[1]!);
      const forkOnTimeline1 = walSegmentOf(toTimelineId(1), switchLsn, SEGMENT_BYTES);
      const forkOnTimeline2 = walSegmentOf(toTimelineId(2), switchLsn, SEGMENT_BYTES);
      const firstSwitched = await writeAndSwitch();
      expect(firstSwitched).toBe(forkOnTimeline2);
      const timeline2 = await waitUntilStored(firstSwitched, 2);
      await waitFor('the history file in the repository', async () => (await readStoredWal(repository.storage, 'main')).historyTimelines.includes(2));

      // Timeline 1 is complete up to the segment holding the switch; timeline 2 starts with that same segment
      // (its copy holds the WAL before the switch too).
      const timeline1 = await readStoredWal(repository.storage, 'main', 1);
      expect(findGaps(timeline1.segments, toTimelineId(1), SEGMENT_BYTES)).toEqual([]);
      expect(nextWalSegment(timeline1.segments.at(-1)!, SEGMENT_BYTES)).toBe(forkOnTimeline1);
      expect(timeline2.segments).toEqual([forkOnTimeline2]);
      // pg_receivewal leaves timeline 1's last segment as a .partial: once timeline 2 has its own head, that
      // leftover is stored as a partial ending exactly at the switch, and leaves the spool.
      await pg.query('insert into filler (payload) values ($1)', ['first commit after the switch segment']);
      await waitFor(
        'the timeline 1 leftover stored and gone from the spool',
        async () => {
          const partials = (await readStoredWal(repository.storage, 'main', 1)).partials.get(forkOnTimeline1);
          return listSpool(fixture).every((name) => !name.startsWith('00000001')) && partials;
        },
        { timeoutMs: fixture.config.clusters[0]!.wal.partialUploadIntervalSeconds * 1000 + 10_000 },
      );
      expect((await readStoredWal(repository.storage, 'main', 1)).partials.get(forkOnTimeline1)).toEqual([switchLsn]);
      expect(archiver.hasEnded()).toBe(false);
      expect(archiver.latest()!.lastArchivedSegment).toBe(forkOnTimeline2);
    } finally {
      await archiver.stop();
    }
  }, 90_000);

  it('resumes on the new timeline from an empty spool (a new machine after a failover) without a false gap', async (context) => {
    if (pg.runtime !== 'local') context.skip();
    const old = await currentTimeline();
    const first = startInProcessArchiver({ fixture, storage: repository.storage, keys: repository.keys, log: captured.log });
    try {
      await waitFor('a running receiver', () => first.latest()?.receiverRunning === true);
      await waitUntilStored(await writeAndSwitch(), old);
    } finally {
      await first.stop();
    }
    // WAL the archiver never saw, then a failover while no archiver runs; the archiver then comes back on a machine
    // with an empty spool. The guard slot holds that WAL, which the server has only under the old timeline's names.
    const unarchived = [await writeAndSwitch(), await writeAndSwitch()];
    await switchTimeline(old + 1);
    for (const name of listSpool(fixture)) rmSync(join(spoolDirOfFixture(fixture), name));
    const [history] = await pg.query<{ content: string }>(`select pg_read_file('pg_wal/${(old + 1).toString(16).toUpperCase().padStart(8, '0')}.history') as content`);
    const switchLsn = parseLsn(history!.content.trim().split('\n').at(-1)!.split(/\s+/)[1]!);
    const forkSegment = walSegmentOf(toTimelineId(old + 1), switchLsn, SEGMENT_BYTES);

    const second = startInProcessArchiver({ fixture, storage: repository.storage, keys: repository.keys, log: captured.log });
    try {
      await waitFor('a running receiver on the new timeline', () => second.latest()?.receiverRunning === true);
      const switched = await writeAndSwitch();
      expect(switched).toBe(forkSegment);
      const stored = await waitUntilStored(switched, old + 1);
      expect(stored.segments[0]).toBe(forkSegment);
      // The old timeline's WAL up to the switch is archived too: no gap on either side of the fork.
      const before = await readStoredWal(repository.storage, 'main', old);
      for (const segment of unarchived) expect(before.segments).toContain(segment);
      expect(findGaps(before.segments, toTimelineId(old), SEGMENT_BYTES)).toEqual([]);
      expect(second.hasEnded()).toBe(false);
      expect(second.latest()!.lastError).toBeUndefined();
    } finally {
      await second.stop();
    }
  }, 120_000);
});
