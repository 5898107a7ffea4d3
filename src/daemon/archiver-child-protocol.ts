// The messages between the daemon and its WAL archiver child process (Node IPC, JSON). The parent says which
// cluster to archive and keeps confirming that it still holds the lease; silence or `stop` ends the archiver.
export interface ArchiverStartMessage {
  type: 'start';
  /** The child loads the same config file as the daemon (secrets resolve in the child; none cross IPC). */
  configPath: string;
  cluster: string;
  daemonId: string;
  /** Stop when no `keep` arrived for this long (ms; less than the lease): a frozen daemon's lease passes to another. */
  watchdogMs: number;
}

/** Sent every lease renewal that did not find another holder (also while Redis is unreachable). */
export interface ArchiverKeepMessage {
  type: 'keep';
}

export interface ArchiverStopMessage {
  type: 'stop';
  reason: string;
}

export type ArchiverParentMessage = ArchiverStartMessage | ArchiverKeepMessage | ArchiverStopMessage;
