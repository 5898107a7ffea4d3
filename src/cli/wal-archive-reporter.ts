// The lines `lifeboat wal archive` prints on stdout: that it started and where streaming resumes, what it archived
// (one line per segment, or one summary line per few seconds when segments come faster), and what it had shipped
// when it stopped. Logs stay on stderr; this only turns the archiver's events and state into readable lines.
import type { WalArchiveState } from '../backup/wal-archive/archiver-state.js';
import type { WalArchiveEvent } from '../backup/wal-archive/wal-archive-events.js';

/** At most one "archived" line per this many ms; segments completed in between are summed into it. */
export const ARCHIVED_LINE_EVERY_MS = 5000;

export interface WalArchiveReporter {
  event(event: WalArchiveEvent): void;
  /** The archiver's state after each cycle: prints the pending "archived" line once it is due. */
  state(state: WalArchiveState): void;
}

interface Pending {
  first: string;
  last: string;
  count: number;
  storedSizeBytes: number;
  alreadyStored: number;
}

/** Binary units, as WAL segment sizes are (16 MiB). */
export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}

function formatArchived(pending: Pending, state: WalArchiveState | undefined): string {
  const what = pending.count === 1 ? `archived ${pending.first}` : `archived ${pending.count} segments ${pending.first} to ${pending.last}`;
  const already = pending.alreadyStored > 0 ? `, ${pending.alreadyStored} already stored` : '';
  const lag = state === undefined ? '' : `, lag ${formatSize(state.lagBytes)}${state.lagSeconds >= 1 ? ` (${state.lagSeconds.toFixed(0)} s)` : ''}`;
  return `${what} (stored ${formatSize(pending.storedSizeBytes)}${already})${lag}`;
}

function formatStopped(event: Extract<WalArchiveEvent, { kind: 'stopped' }>): string {
  const { state } = event;
  const segments = `${state.segmentsArchived} segment${state.segmentsArchived === 1 ? '' : 's'} archived by this run`;
  const end = state.lastArchivedLsn === undefined ? 'nothing stored yet' : `stored WAL ends at ${state.lastArchivedLsn}`;
  const last = event.finalPartial
    ? ` (partial of ${event.finalPartial.segment} shipped at stop)`
    : state.lastArchivedSegment === undefined ? '' : ` (newest complete segment ${state.lastArchivedSegment})`;
  const unfinished = event.finalShipError === undefined ? '' : `; could not finish shipping at stop, the rest ships on the next start: ${event.finalShipError}`;
  return `${event.error === undefined ? 'stopped' : 'stopped on an error'}: ${segments}, ${end}${last}${unfinished}`;
}

export function createWalArchiveReporter(out: (line: string) => void, nowMs: () => number = Date.now): WalArchiveReporter {
  let pending: Pending | undefined;
  let lastLineMs = Number.NEGATIVE_INFINITY;
  let latest: WalArchiveState | undefined;
  const flush = (): void => {
    if (pending === undefined) return;
    out(formatArchived(pending, latest));
    pending = undefined;
    lastLineMs = nowMs();
  };
  return {
    event(event) {
      switch (event.kind) {
        case 'started':
          out(`wal archive started: cluster ${event.cluster}, slot ${event.slotName} (guard ${event.guardSlotName}), timeline ${event.timeline}, pid ${event.pid}`);
          return;
        case 'streaming':
          if (event.restart > 0) out(`pg_receivewal restarted (${event.restart}) at ${event.segment}`);
          else out(`streaming resumes at ${event.segment} (${event.seeded ? 'where the repository\'s WAL ends' : 'from the local spool'})`);
          return;
        case 'archived':
          if (pending === undefined) pending = { first: event.segment, last: event.segment, count: 0, storedSizeBytes: 0, alreadyStored: 0 };
          pending.last = event.segment;
          pending.count += 1;
          pending.storedSizeBytes += event.storedSizeBytes;
          if (!event.uploaded) pending.alreadyStored += 1;
          return;
        case 'stopped':
          latest = event.state;
          flush();
          out(formatStopped(event));
          return;
      }
    },
    state(state) {
      latest = state;
      if (pending !== undefined && nowMs() - lastLineMs >= ARCHIVED_LINE_EVERY_MS) flush();
    },
  };
}
