// LSN arithmetic and WAL segment naming, checked against values PostgreSQL itself prints.
import { describe, expect, it } from 'vitest';
import {
  compareLsn,
  formatLsn,
  nextWalSegment,
  parseLsn,
  parseWalSegmentName,
  segmentStartLsn,
  timelineHistoryFileName,
  toTimelineId,
  walSegmentOf,
} from '../../src/postgres/index.js';

describe('lsn', () => {
  it('parses and formats like PostgreSQL', () => {
    expect(formatLsn(parseLsn('16/B374D848'))).toBe('16/B374D848');
    expect(formatLsn(parseLsn('0/0'))).toBe('0/0');
    expect(parseLsn('1/0') - parseLsn('0/FFFFFFFF')).toBe(1n);
    expect(compareLsn(parseLsn('0/10'), parseLsn('0/9'))).toBe(1);
  });

  it('refuses malformed text with a hint', () => {
    expect(() => parseLsn('16-B374D848')).toThrow(/is not an LSN/);
    expect(() => parseLsn('123456789/0')).toThrow(/is not an LSN/);
  });
});

describe('wal segment names', () => {
  it('maps LSNs to segments (pg_walfile_name semantics) for 16 MiB segments', () => {
    // select pg_walfile_name('16/B374D848') on timeline 1 -> 0000000100000016000000B3
    expect(walSegmentOf(toTimelineId(1), parseLsn('16/B374D848'))).toBe('0000000100000016000000B3');
    expect(walSegmentOf(toTimelineId(2), parseLsn('0/1000000'))).toBe('000000020000000000000001');
  });

  it('steps across the xlogid boundary', () => {
    expect(nextWalSegment(parseWalSegmentName('0000000100000016000000FF'))).toBe('000000010000001700000000');
    expect(formatLsn(segmentStartLsn(parseWalSegmentName('000000010000001700000000')))).toBe('17/0');
  });

  it('supports other segment sizes', () => {
    const size = 64 * 1024 * 1024;
    expect(walSegmentOf(toTimelineId(1), parseLsn('0/FFFFFFFF'), size)).toBe('00000001000000000000003F');
    expect(nextWalSegment(parseWalSegmentName('00000001000000000000003F'), size)).toBe('000000010000000100000000');
  });

  it('names history files and validates names', () => {
    expect(timelineHistoryFileName(toTimelineId(10))).toBe('0000000A.history');
    expect(() => parseWalSegmentName('00000001000000000000000')).toThrow(/not a WAL segment name/);
    expect(() => toTimelineId(0)).toThrow(/not a timeline id/);
  });
});
