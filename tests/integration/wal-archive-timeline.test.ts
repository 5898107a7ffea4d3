// The WAL archiver across a timeline switch on a real PostgreSQL 15. The switch is made cheaply on the same
// server: restart it with recovery.signal (and a restore_command that finds nothing), so it replays its own
// pg_wal, ends archive recovery and promotes itself to timeline 2, exactly as a restore or failover would.
// The archive must then hold the 00000002.history file, timeline 1 up to the switch, and timeline 2 after it.
import { chownSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { nextWalSegment, parseLsn, toTimelineId, walSegmentOf, type WalSegmentName } from '../../src/postgres/index.js';
import { openRepository, type Repository } from '../../src/repository/open-repository.js';
import { registerArchiverSuiteHooks } from '../harness/archiver-suite.js';
import { createCapturedLog } from '../harness/captured-log.js';
import { createLifeboatFixture, type LifeboatFixture } from '../harness/lifeboat-fixture.js';
import { startPostgres, type PostgresServer } from '../harness/postgres.js';
import { postgresOsUser } from '../harness/run-as-postgres.js';
import { waitFor } from '../harness/wait-for.js';
import { findGaps, listSpool, readStoredWal, startInProcessArchiver, writeAndSwitch as switchWal, type StoredWal } from '../harness/wal-archiver-runner.js';

const captured = createCapturedLog();
const SEGMENT_BYTES = 16 * 1024 * 1024;
let pg: PostgresServer;
let fixture: LifeboatFixture;
let repository: Repository;

beforeAll(async () => {
  pg = await startPostgres();
  fixture = createLifeboatFixture(pg);
  repository = await openRepository(fixture.config, 'write');
  await pg.query('create table filler (id bigserial primary key, payload text not null)');
}, 120_000);

// The archiver's warnings explain most failures (a receiver that kept stopping, a repository error).
registerArchiverSuiteHooks(captured, () => ({ pg, fixture, repository }));

const writeAndSwitch = (): Promise<WalSegmentName> => switchWal(pg);

async function waitUntilStored(segment: WalSegmentName, timeline: number): Promise<StoredWal> {
  return waitFor(`segment ${segment} in the repository`, async () => {
    const wal = await readStoredWal(repository.storage, 'main', timeline);
    return wal.objectsPerSegment.has(segment) ? wal : undefined;
  });
}

/** Ends the server's timeline: the next start replays pg_wal as an archive recovery and promotes. */
async function switchTimeline(): Promise<void> {
  await pg.query("alter system set restore_command = 'false'");
  const signalFile = join(pg.dataDir, 'recovery.signal');
  writeFileSync(signalFile, '');
  const owner = postgresOsUser();
  if (owner !== undefined) chownSync(signalFile, owner.uid, owner.gid);
  await pg.restart();
  await waitFor('the server promoted to timeline 2', async () => {
    const [row] = await pg.query<{ recovering: boolean; timeline: number }>(
      'select pg_is_in_recovery() as recovering, (select timeline_id from pg_control_checkpoint()) as timeline',
    );
    return row!.recovering === false && row!.timeline === 2;
  });
  await pg.query('alter system reset restore_command');
  await pg.query('select pg_reload_conf()');
}

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
});
