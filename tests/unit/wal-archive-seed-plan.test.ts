// Where an archiver with an empty spool resumes streaming, across timeline switches: after the newest segment the
// repository holds on the server's history, named for the timeline its WAL belongs to (a parent's name for WAL
// before a switch no archiver saw), and never past WAL the server no longer has.
import { describe, expect, it } from 'vitest';
import { checkSeedReachable, planSeed } from '../../src/backup/wal-archive/seed-spool.js';
import { isLifeboatError } from '../../src/errors/index.js';
import { parseLsn, parseWalSegmentName, toTimelineId, type TimelineSwitch, type WalSegmentName } from '../../src/postgres/index.js';
import type { ArchivedWal } from '../../src/repository/list-archived-wal.js';

const SIZE = 16 * 1024 * 1024;
const seg = (name: string): WalSegmentName => parseWalSegmentName(name);
const TL1 = toTimelineId(1);
const TL2 = toTimelineId(2);
const TL3 = toTimelineId(3);
/** Timeline 2 forked from 1 inside segment 6. */
const TO_TL2: TimelineSwitch[] = [{ parent: TL1, switchLsn: parseLsn('0/6000A00'), reason: 'end of recovery' }];

function archived(...names: string[]): ArchivedWal {
  const segments = new Map(names.map((name) => [seg(name), { segment: seg(name), key: `wal/${name}`, sha256: 'x', storedSizeBytes: 1 }]));
  return { segments, partials: new Map(), histories: new Map() };
}

describe('planSeed', () => {
  it('a new archive starts at the guard slot\'s restart LSN', () => {
    expect(planSeed(archived(), TL1, [], parseLsn('0/3000028'), SIZE)).toEqual({ segment: '000000010000000000000003', continues: false });
  });

  it('continues right after the newest stored segment of the timeline', () => {
    const decision = planSeed(archived('000000010000000000000001', '000000010000000000000002', '000000010000000000000003'), TL1, [], parseLsn('0/1000000'), SIZE);
    expect(decision).toEqual({ segment: '000000010000000000000004', continues: true, newestStored: '000000010000000000000003' });
  });

  it('after a failover no archiver saw, continues the parent under the parent\'s names up to the switch segment', () => {
    const wal = archived('000000010000000000000002', '000000010000000000000003');
    expect(planSeed(wal, TL2, TO_TL2, parseLsn('0/4000000'), SIZE)).toMatchObject({ segment: '000000010000000000000004', continues: true });
    // The segment holding the switch is the new timeline's copy (it holds the parent's WAL before the switch too),
    // as restore reads it.
    expect(planSeed(archived('000000010000000000000005'), TL2, TO_TL2, parseLsn('0/4000000'), SIZE).segment).toBe('000000020000000000000006');
  });

  it('the new timeline\'s copy of the switch segment counts as stored: streaming goes on after it', () => {
    const toTl2In5: TimelineSwitch[] = [{ parent: TL1, switchLsn: parseLsn('0/5001000'), reason: 'end of recovery' }];
    const wal = archived('000000010000000000000003', '000000010000000000000004', '000000020000000000000005');
    expect(planSeed(wal, TL2, toTl2In5, parseLsn('0/1000000'), SIZE)).toEqual({ segment: '000000020000000000000006', continues: true, newestStored: '000000020000000000000005' });
  });

  it('ignores the parent\'s copies of the switch segment and past it: they belong to another branch', () => {
    // A complete copy of segment 6 on timeline 1 ran past the switch (the old primary kept writing).
    const decision = planSeed(archived('000000010000000000000005', '000000010000000000000006', '000000010000000000000009'), TL2, TO_TL2, parseLsn('0/4000000'), SIZE);
    expect(decision).toEqual({ segment: '000000020000000000000006', continues: true, newestStored: '000000010000000000000005' });
  });

  it('continues on the current timeline once it has its own segments', () => {
    const wal = archived('000000010000000000000005', '000000020000000000000006', '000000020000000000000007');
    expect(planSeed(wal, TL2, TO_TL2, parseLsn('0/4000000'), SIZE).segment).toBe('000000020000000000000008');
  });

  it('follows a history of several switches', () => {
    const toTl3: TimelineSwitch[] = [...TO_TL2, { parent: TL2, switchLsn: parseLsn('0/9000100'), reason: 'failover' }];
    expect(planSeed(archived('000000020000000000000007'), TL3, toTl3, parseLsn('0/1000000'), SIZE).segment).toBe('000000020000000000000008');
    expect(planSeed(archived('000000020000000000000008'), TL3, toTl3, parseLsn('0/1000000'), SIZE).segment).toBe('000000030000000000000009');
    expect(planSeed(archived('000000030000000000000009'), TL3, toTl3, parseLsn('0/1000000'), SIZE).segment).toBe('00000003000000000000000A');
  });

  it('a new archive after a failover starts on the timeline holding the restart LSN', () => {
    expect(planSeed(archived(), TL2, TO_TL2, parseLsn('0/4000028'), SIZE)).toEqual({ segment: '000000010000000000000004', continues: false });
    expect(planSeed(archived(), TL2, TO_TL2, parseLsn('0/7000028'), SIZE)).toEqual({ segment: '000000020000000000000007', continues: false });
  });
});

describe('checkSeedReachable', () => {
  it('names the gap when the server no longer has the segment the archive continues at', () => {
    const decision = planSeed(archived('000000010000000000000003'), TL1, [], parseLsn('0/1000000'), SIZE);
    const error = (() => {
      try {
        checkSeedReachable(decision, seg('000000010000000000000007'), SIZE);
        return undefined;
      } catch (caught) {
        return caught;
      }
    })();
    expect(isLifeboatError(error, 'postgresConfig')).toBe(true);
    expect((error as Error).message).toBe(
      'WAL gap: segments 000000010000000000000004 to 000000010000000000000006 are lost: the repository ends at segment 000000010000000000000003 but the server only keeps WAL from 000000010000000000000007',
    );
  });

  it('accepts a segment the server still has, and any start of a new archive', () => {
    const continuing = planSeed(archived('000000010000000000000003'), TL1, [], parseLsn('0/1000000'), SIZE);
    expect(() => checkSeedReachable(continuing, seg('000000010000000000000002'), SIZE)).not.toThrow();
    expect(() => checkSeedReachable(continuing, undefined, SIZE)).not.toThrow();
    const fresh = planSeed(archived(), TL1, [], parseLsn('0/3000000'), SIZE);
    expect(() => checkSeedReachable(fresh, seg('000000010000000000000009'), SIZE)).not.toThrow();
  });
});
