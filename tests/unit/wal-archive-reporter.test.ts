// The stdout lines of `lifeboat wal archive`: a start line naming the pid, where streaming resumes, archived
// segments as one line each when they come slowly and one summary line per few seconds when they come fast (no
// flood), and a stop line saying what was shipped; with an injected clock.
import { describe, expect, it } from 'vitest';
import type { WalArchiveState } from '../../src/backup/wal-archive/archiver-state.js';
import { ARCHIVED_LINE_EVERY_MS, createWalArchiveReporter, formatSize } from '../../src/cli/wal-archive-reporter.js';

const SEGMENT = (n: number): string => `0000000100000000000000${n.toString(16).toUpperCase().padStart(2, '0')}`;

function state(overrides: Partial<WalArchiveState> = {}): WalArchiveState {
  return { cluster: 'main', lagBytes: 0, lagSeconds: 0, segmentsArchived: 0, partialsUploaded: 0, receiverRunning: true, receiverRestarts: 0, updatedTime: '', ...overrides };
}

describe('wal archive reporter', () => {
  it('prints the start, one line per slow segment, one summary per interval for fast ones, and the stop', () => {
    let now = 1_000_000;
    const lines: string[] = [];
    const reporter = createWalArchiveReporter((line) => lines.push(line), () => now);
    reporter.event({ kind: 'started', cluster: 'main', slotName: 'lifeboat', guardSlotName: 'lifeboat_guard', timeline: 1, segmentSizeBytes: 16 << 20, pid: 4242 });
    reporter.event({ kind: 'streaming', segment: SEGMENT(5), seeded: true, restart: 0 });
    expect(lines).toEqual([
      'wal archive started: cluster main, slot lifeboat (guard lifeboat_guard), timeline 1, pid 4242',
      `streaming resumes at ${SEGMENT(5)} (where the repository's WAL ends)`,
    ]);
    lines.length = 0;

    // A slow segment: printed at the next state, with the lag.
    reporter.event({ kind: 'archived', segment: SEGMENT(5), storedSizeBytes: 1_258_291, uploaded: true });
    reporter.state(state({ lagBytes: 0 }));
    expect(lines).toEqual([`archived ${SEGMENT(5)} (stored 1.2 MiB), lag 0 B`]);

    // A burst within the interval: nothing until it has passed, then one summary line.
    for (let n = 6; n <= 30; n++) {
      now += 150;
      reporter.event({ kind: 'archived', segment: SEGMENT(n), storedSizeBytes: 1 << 20, uploaded: n !== 6 });
      reporter.state(state({ lagBytes: 40 << 20, lagSeconds: 3.2 }));
    }
    expect(lines).toHaveLength(1);
    now += ARCHIVED_LINE_EVERY_MS;
    reporter.state(state({ lagBytes: 40 << 20, lagSeconds: 3.2 }));
    expect(lines.slice(1)).toEqual([`archived 25 segments ${SEGMENT(6)} to ${SEGMENT(30)} (stored 25.0 MiB, 1 already stored), lag 40.0 MiB (3 s)`]);
    // Nothing pending: states alone print nothing.
    now += ARCHIVED_LINE_EVERY_MS;
    reporter.state(state());
    expect(lines).toHaveLength(2);

    // The stop flushes what is pending, then says what was shipped.
    reporter.event({ kind: 'archived', segment: SEGMENT(31), storedSizeBytes: 512, uploaded: true });
    reporter.event({ kind: 'stopped', state: state({ segmentsArchived: 27, lastArchivedLsn: '0/32000158', lastArchivedSegment: SEGMENT(31) }), finalPartial: { segment: SEGMENT(32), endLsn: '0/32000158' } });
    expect(lines.slice(2)).toEqual([
      `archived ${SEGMENT(31)} (stored 512 B), lag 0 B`,
      `stopped: 27 segments archived by this run, stored WAL ends at 0/32000158 (partial of ${SEGMENT(32)} shipped at stop)`,
    ]);
  });

  it('says when pg_receivewal restarted, and when the stop came from an error or could not finish shipping', () => {
    const lines: string[] = [];
    const reporter = createWalArchiveReporter((line) => lines.push(line), () => 0);
    reporter.event({ kind: 'streaming', segment: SEGMENT(9), seeded: false, restart: 2 });
    reporter.event({ kind: 'stopped', state: state({ segmentsArchived: 1, lastArchivedLsn: '0/A000000', lastArchivedSegment: SEGMENT(9) }), finalShipError: 'cannot reach the store', error: 'objectExists' });
    expect(lines).toEqual([
      `pg_receivewal restarted (2) at ${SEGMENT(9)}`,
      `stopped on an error: 1 segment archived by this run, stored WAL ends at 0/A000000 (newest complete segment ${SEGMENT(9)}); could not finish shipping at stop, the rest ships on the next start: cannot reach the store`,
    ]);
  });

  it('formats sizes in binary units', () => {
    expect([formatSize(0), formatSize(1023), formatSize(16 << 20), formatSize(1_500_000_000)]).toEqual(['0 B', '1023 B', '16.0 MiB', '1.4 GiB']);
  });
});
