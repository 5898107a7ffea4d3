// What a restore checks once recovery is over, and how it talks about the plan: the planned WAL as ranges for
// `wal fetch`, the least end of replay each target implies (a --latest replay that ended before the newest planned
// segment fell short), the estimate range, and the target in words.
import { describe, expect, it } from 'vitest';
import { parseLsn, type WalSegmentName } from '../../src/postgres/index.js';
import type { FullBackupManifest } from '../../src/repository/backup-manifest.js';
import { checkReachedPlan, plannedMinimumLsn } from '../../src/restore/check-reached-plan.js';
import { estimateRestore, formatEstimate, RESTORE_RATES } from '../../src/restore/estimate-restore.js';
import type { PlannedWal, RestorePlan } from '../../src/restore/plan-restore.js';
import { formatRestoreTarget, parseRestoreTarget, type RestoreTarget } from '../../src/restore/restore-target.js';
import { isPlannedSegment, plannedWalRanges } from '../../src/restore/wal-fetch/planned-wal.js';

const SEGMENT = 16 * 1024 * 1024;

function wal(segment: string, source: PlannedWal['source'] = 'segment'): PlannedWal {
  return { segment: segment as WalSegmentName, key: `wal/${segment}`, source, storedSizeBytes: 1000 };
}

function plan(target: RestoreTarget, segments: PlannedWal[], extra: Partial<RestorePlan> = {}): RestorePlan {
  return {
    target,
    wal: segments,
    backup: { stopLsn: '0/3000100', tarSizeBytes: 60e6 } as FullBackupManifest,
    ...extra,
  } as RestorePlan;
}

describe('planned WAL ranges', () => {
  it('are one range per timeline along the path, and name exactly the planned segments', () => {
    const ranges = plannedWalRanges(['000000010000000000000003', '000000010000000000000004', '000000010000000000000005', '000000020000000000000005', '000000020000000000000006']);
    expect(ranges).toEqual([
      { first: '000000010000000000000003', last: '000000010000000000000005' },
      { first: '000000020000000000000005', last: '000000020000000000000006' },
    ]);
    expect(isPlannedSegment(ranges, '000000010000000000000004')).toBe(true);
    expect(isPlannedSegment(ranges, '000000020000000000000006')).toBe(true);
    expect(isPlannedSegment(ranges, '000000010000000000000006')).toBe(false);
    expect(isPlannedSegment(ranges, '000000020000000000000004')).toBe(false);
    expect(isPlannedSegment(ranges, '000000020000000000000007')).toBe(false);
    expect(isPlannedSegment([], '000000010000000000000004')).toBe(false);
  });
});

describe('checkReachedPlan', () => {
  const latest = plan({ kind: 'latest' }, [wal('000000010000000000000003'), wal('000000010000000000000004'), wal('000000010000000000000005'), wal('000000010000000000000006', 'partial')]);

  it('--latest: replay must get into the newest planned segment (a partial may end mid-record)', () => {
    expect(plannedMinimumLsn(latest, SEGMENT)?.lsn).toBe(parseLsn('0/6000000'));
    expect(checkReachedPlan(latest, parseLsn('0/6000028'), SEGMENT)).toBeUndefined();
    expect(checkReachedPlan(latest, parseLsn('0/6FFFFF0'), SEGMENT)).toBeUndefined();
  });

  it('--latest that ended in an earlier segment fell short, listing the segments replay did not finish', () => {
    const shortfall = checkReachedPlan(latest, parseLsn('0/4FFFFD8'), SEGMENT);
    expect(shortfall?.meaning).toBe('the newest planned segment 000000010000000000000006 (a partial)');
    expect(shortfall?.unreplayed.map((w) => w.segment)).toEqual(['000000010000000000000004', '000000010000000000000005', '000000010000000000000006']);
    expect(checkReachedPlan(latest, parseLsn('0/5000000'), SEGMENT)?.unreplayed[0]?.segment).toBe('000000010000000000000005');
  });

  it('explicit targets: the LSN, the named point and the consistent point, less one WAL page; a time implies none', () => {
    const segments = [wal('000000010000000000000003')];
    expect(checkReachedPlan(plan({ kind: 'lsn', lsn: parseLsn('0/3500000'), inclusive: false }, segments), parseLsn('0/34FFFE0'), SEGMENT)).toBeUndefined();
    expect(checkReachedPlan(plan({ kind: 'lsn', lsn: parseLsn('0/3500000'), inclusive: true }, segments), parseLsn('0/3400000'), SEGMENT)?.meaning).toBe('the target LSN 0/3500000');
    expect(checkReachedPlan(plan({ kind: 'name', name: 'p' }, segments, { namedLsn: parseLsn('0/3600000') }), parseLsn('0/3600000'), SEGMENT)).toBeUndefined();
    expect(checkReachedPlan(plan({ kind: 'immediate' }, segments), parseLsn('0/2000000'), SEGMENT)?.meaning).toBe("the backup's consistent point 0/3000100");
    expect(plannedMinimumLsn(plan({ kind: 'time', text: 't', micros: 0n, inclusive: true }, segments), SEGMENT)).toBeUndefined();
  });
});

describe('the estimate', () => {
  it('includes start-up, the base backup and every segment replayed, and shows a range', () => {
    const small = estimateRestore(plan({ kind: 'latest' }, [wal('000000010000000000000003'), wal('000000010000000000000004'), wal('000000010000000000000005')]));
    expect(small.seconds).toBeCloseTo(RESTORE_RATES.startSeconds + 60e6 / RESTORE_RATES.restoredBytesPerSecond + 3 * RESTORE_RATES.secondsPerSegment);
    // The restores the estimate once called "3 s" took 8.8 and 10.9 s with more WAL; the small ones 5.5-7.2 s.
    expect(small.lowSeconds).toBeLessThan(5.5);
    expect(small.highSeconds).toBeGreaterThan(7.2);
    expect(formatEstimate(small)).toMatch(/^\d+-\d+ s$/);
    expect(formatEstimate({ seconds: 600, lowSeconds: 450, highSeconds: 960 })).toBe('7-16 min');
    expect(formatEstimate({ seconds: 10_000, lowSeconds: 7500, highSeconds: 16_000 })).toBe('2.1-4.4 h');
  });
});

describe('formatRestoreTarget', () => {
  it('says the target in words, never as JSON', () => {
    const words = (flags: Parameters<typeof parseRestoreTarget>[0]): string => formatRestoreTarget(parseRestoreTarget(flags).target);
    expect(words({ latest: true })).toMatch(/^latest/);
    expect(words({ toTime: '2026-11-29T14:02:59.5Z' })).toBe('time 2026-11-29 14:02:59.5+00:00');
    expect(words({ toLsn: '0/3000148', exclusive: true })).toBe('LSN 0/3000148 (exclusive)');
    expect(words({ toName: 'before-cleanup' })).toBe('restore point before-cleanup');
    expect(words({ immediate: true })).toMatch(/^immediate/);
  });
});
