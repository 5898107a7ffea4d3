// Which segment files replay reads along a timeline history: the parent's up to the segment holding the switch,
// the child's from that segment on (PostgreSQL asks for the newest timeline's copy first), and which timeline of
// the repository is the newest one descending from a backup's.
import { describe, expect, it } from 'vitest';
import { parseLsn, parseWalSegmentName, toTimelineId, type TimelineSwitch } from '../../src/postgres/index.js';
import { isOnPath, newestCompleteEnd, segmentsAlongPath, timelineOfSegment, walkArchivedWal, type TimelineStep } from '../../src/repository/find-wal-gaps.js';
import type { ArchivedWal } from '../../src/repository/list-archived-wal.js';
import { newestDescendantPath } from '../../src/repository/timeline-histories.js';

const SIZE = 16 * 1024 * 1024;
const TL1 = toTimelineId(1);
const TL2 = toTimelineId(2);
const TL3 = toTimelineId(3);
/** 1 -> 2 inside segment 4, 2 -> 3 exactly at the start of segment 7. */
const PATH: TimelineStep[] = [
  { timeline: TL1, endLsn: parseLsn('0/40270F8') },
  { timeline: TL2, endLsn: parseLsn('0/7000000') },
  { timeline: TL3, endLsn: undefined },
];

function archived(segments: string[], partials: string[] = []): ArchivedWal {
  return {
    segments: new Map(segments.map((name) => [name, { segment: name, key: name, sha256: 'x', storedSizeBytes: 1 }])) as ArchivedWal['segments'],
    partials: new Map(partials.map((name) => [name, [{ segment: name, key: name, endLsn: parseLsn('0/0'), storedSizeBytes: 1 }]])) as ArchivedWal['partials'],
    histories: new Map(),
  };
}

describe('segments along a timeline path', () => {
  it('reads the child\'s copy of the segment holding a switch, and the parent\'s before it', () => {
    expect(segmentsAlongPath(PATH, parseLsn('0/2000028'), parseLsn('0/8000100'), SIZE)).toEqual([
      '000000010000000000000002',
      '000000010000000000000003',
      '000000020000000000000004',
      '000000020000000000000005',
      '000000020000000000000006',
      '000000030000000000000007',
      '000000030000000000000008',
    ]);
  });

  it('a range inside one timeline, and an end exactly on a segment boundary', () => {
    expect(segmentsAlongPath(PATH, parseLsn('0/5000000'), parseLsn('0/7000000'), SIZE)).toEqual(['000000020000000000000005', '000000020000000000000006']);
    expect(segmentsAlongPath(PATH, parseLsn('0/1000000'), parseLsn('0/1000000'), SIZE)).toEqual(['000000010000000000000001']);
  });

  it('names the timeline of each segment start, and tells a path\'s copies from other branches\'', () => {
    expect(timelineOfSegment(PATH, parseLsn('0/3000000'), SIZE)).toBe(TL1);
    expect(timelineOfSegment(PATH, parseLsn('0/4000000'), SIZE)).toBe(TL2);
    expect(timelineOfSegment(PATH, parseLsn('0/7000000'), SIZE)).toBe(TL3);
    expect(isOnPath(PATH, parseWalSegmentName('000000010000000000000004'), SIZE)).toBe(false);
    expect(isOnPath(PATH, parseWalSegmentName('000000010000000000000005'), SIZE)).toBe(false);
    expect(isOnPath(PATH, parseWalSegmentName('000000020000000000000004'), SIZE)).toBe(true);
  });

  it('the newest complete segment on the path ignores a parent\'s copies past its switch', () => {
    const wal = archived(['000000010000000000000003', '000000010000000000000009', '000000020000000000000005']);
    expect(newestCompleteEnd(wal, PATH, parseLsn('0/1000000'), SIZE)).toBe(parseLsn('0/6000000'));
    expect(newestCompleteEnd(archived([]), PATH, parseLsn('0/1000000'), SIZE)).toBe(parseLsn('0/1000000'));
  });
});

describe('walkArchivedWal', () => {
  it('walks along the path to the newest complete segment: contiguous ones, every stored one, and the gaps', () => {
    const wal = archived(['000000010000000000000002', '000000010000000000000003', '000000020000000000000005', '000000030000000000000007', '000000010000000000000009']);
    expect(walkArchivedWal(wal, PATH, parseLsn('0/2000028'), SIZE)).toEqual({
      contiguous: ['000000010000000000000002', '000000010000000000000003'],
      stored: ['000000010000000000000002', '000000010000000000000003', '000000020000000000000005', '000000030000000000000007'],
      gaps: ['000000020000000000000004', '000000020000000000000006'],
      newest: '000000030000000000000007',
    });
  });

  it('finds nothing when no complete segment ends after the start, and walks one timeline as a one-step path', () => {
    const wal = archived(['000000010000000000000002', '000000010000000000000003']);
    expect(walkArchivedWal(wal, PATH, parseLsn('0/4000000'), SIZE)).toEqual({ contiguous: [], stored: [], gaps: [], newest: undefined });
    const timeline1: TimelineStep[] = [{ timeline: TL1, endLsn: undefined }];
    expect(walkArchivedWal(wal, timeline1, parseLsn('0/3000000'), SIZE)).toMatchObject({ contiguous: ['000000010000000000000003'], newest: '000000010000000000000003' });
    expect(walkArchivedWal(wal, timeline1, parseLsn('0/1000000'), SIZE)).toMatchObject({ contiguous: [], gaps: ['000000010000000000000001'] });
  });
});

describe('newestDescendantPath', () => {
  const histories = new Map<ReturnType<typeof toTimelineId>, TimelineSwitch[]>([
    [TL2, [{ parent: TL1, switchLsn: parseLsn('0/40270F8'), reason: '' }]],
    [TL3, [{ parent: TL1, switchLsn: parseLsn('0/40270F8'), reason: '' }, { parent: TL2, switchLsn: parseLsn('0/7000000'), reason: '' }]],
    // Timeline 4 forked from 1 too, later: a sibling branch, newer by number but not a descendant of 2.
    [toTimelineId(4), [{ parent: TL1, switchLsn: parseLsn('0/9000000'), reason: '' }]],
  ]);

  it('follows the history to the highest timeline that descends from the backup\'s', () => {
    expect(newestDescendantPath(TL2, archived(['000000030000000000000007']), histories)).toEqual([
      { timeline: TL2, endLsn: parseLsn('0/7000000') },
      { timeline: TL3, endLsn: undefined },
    ]);
    expect(newestDescendantPath(TL1, archived([]), histories).map((step) => step.timeline)).toEqual([1, 4]);
  });

  it('stays on the backup\'s timeline when nothing descends from it', () => {
    expect(newestDescendantPath(TL3, archived(['000000030000000000000008']), histories)).toEqual([{ timeline: TL3, endLsn: undefined }]);
  });
});
