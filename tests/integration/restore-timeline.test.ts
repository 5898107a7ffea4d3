// Restore across a timeline switch: a full backup on timeline 1, a failover of the source to timeline 2 while the
// archiver runs, more commits there. --latest follows the archived history onto timeline 2 and holds every commit
// of both timelines; a time before the switch stops on timeline 1 without the later commits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promoteToNextTimeline } from '../harness/promote-timeline.js';
import type { RestoredCluster, RestoreRunner } from '../harness/restore-runner.js';
import { startRestoreSource, type RestoreSource } from '../harness/restore-source.js';
import { ensureCliBuilt } from '../harness/wal-archiver-runner.js';

let source: RestoreSource;
let runner: RestoreRunner;
/** A time after the last commit on timeline 1 and before the switch. */
let beforeSwitch: string;

async function labels(restored: RestoredCluster): Promise<string[]> {
  return (await runner.query<{ label: string }>(restored, 'select label from marks order by id')).map((row) => row.label);
}

beforeAll(async () => {
  ensureCliBuilt();
  source = await startRestoreSource();
  const { pg } = source;
  runner = source.restoreRunner();
  await source.fullBackup();
  await pg.query('create table marks (id serial primary key, label text not null)');
  await pg.query(`insert into marks (label) values ('timeline 1')`);
  await source.waitArchived();
  // Commit times have microseconds: a point 20 ms after the last commit on timeline 1 falls before the switch.
  await new Promise((resolve) => setTimeout(resolve, 20));
  beforeSwitch = (await pg.query<{ now: string }>(`select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as now`))[0]!.now;
  await new Promise((resolve) => setTimeout(resolve, 20));

  if (pg.runtime === 'local') {
    await promoteToNextTimeline(pg, 2);
    await pg.query(`insert into marks (label) values ('timeline 2')`);
  }
  await source.archiveAllAndStop();
}, 240_000);

// source.stop() also stops every server the file restored.
afterAll(() => source?.stop());

describe('restore across a timeline switch', () => {
  it('--latest follows the history onto timeline 2 and holds the commits of both timelines', async (context) => {
    // recovery.signal is written straight into the data directory, which only the local runtime exposes.
    if (source.pg.runtime !== 'local') context.skip();
    const restored = await runner.restore({ name: 'latest', latest: true, start: true });
    try {
      expect(restored.result.reached?.state).toBe('promoted');
      const timelines = new Set(restored.result.plan.wal.map((wal) => Number.parseInt(wal.segment.slice(0, 8), 16)));
      expect([...timelines].sort()).toEqual([1, 2]);
      expect(restored.result.plan.missing).toEqual([]);
      expect(await labels(restored)).toEqual(['timeline 1', 'timeline 2']);
      // Promoted after replaying timeline 2: the restored server starts a timeline of its own.
      const [row] = await runner.query<{ timeline: number }>(restored, 'select timeline_id as timeline from pg_control_checkpoint()');
      expect(row!.timeline).toBe(3);
    } finally {
      await runner.stop(restored);
    }
  });

  it('a time before the switch stops on timeline 1, without the commits made after it', async (context) => {
    if (source.pg.runtime !== 'local') context.skip();
    const restored = await runner.restore({ name: 'before-switch', toTime: beforeSwitch, start: true });
    try {
      expect(restored.result.reached?.state).toBe('promoted');
      expect(await labels(restored)).toEqual(['timeline 1']);
    } finally {
      await runner.stop(restored);
    }
  });
});
