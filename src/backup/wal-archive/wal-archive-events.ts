// What the archiver tells its caller as it runs, beyond the periodic state: that it started and where it resumes,
// each segment it stored, and what it had shipped when it stopped. The CLI prints these on stdout; the daemon
// can forward them. The archiver never writes to the console itself.
import type { WalArchiveState } from './archiver-state.js';

/** The archiver holds its lock and checked the server; streaming is about to start. */
export interface WalArchiveStartedEvent {
  kind: 'started';
  cluster: string;
  /** The streaming slot pg_receivewal uses, and the guard slot that holds WAL until it is stored. */
  slotName: string;
  guardSlotName: string;
  /** The server's timeline and WAL segment size. */
  timeline: number;
  segmentSizeBytes: number;
  /** The archiver's process id (the pid a second archiver's refusal names). */
  pid: number;
}

/** pg_receivewal (re)started streaming at `segment`; `restart` counts earlier stops in this run (0 first). */
export interface WalArchiveStreamingEvent {
  kind: 'streaming';
  segment: string;
  /** True when the spool was empty and was seeded where the repository's WAL ends. */
  seeded: boolean;
  restart: number;
}

/** A complete segment is durable in the repository. */
export interface WalArchiveSegmentEvent {
  kind: 'archived';
  segment: string;
  /** Size of the stored object (compressed, encrypted), in bytes. */
  storedSizeBytes: number;
  /** False when an identical copy was already stored (a re-push after a crash). */
  uploaded: boolean;
}

/** The archiver stopped: after a signal (`error` undefined) or on a fatal error. */
export interface WalArchiveStoppedEvent {
  kind: 'stopped';
  /** The final state: what this run shipped, where the stored WAL ends. */
  state: WalArchiveState;
  /** The head partial shipped at stop, if there was new WAL in it. */
  finalPartial?: { segment: string; endLsn: string };
  /** Why the final shipping at stop did not finish (the rest ships on the next start). */
  finalShipError?: string;
  /** The error that ended the archiver; undefined after a requested stop. */
  error?: string;
}

export type WalArchiveEvent = WalArchiveStartedEvent | WalArchiveStreamingEvent | WalArchiveSegmentEvent | WalArchiveStoppedEvent;
