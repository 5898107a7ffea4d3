// The archiver's externally visible state: what is archived, how far behind, and the receiver's health.
// Written to the state folder (for `lifeboat wal status` and the daemon) and passed to an observer.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface WalArchiveState {
  cluster: string;
  /** Newest complete segment durably stored (found in the repository at start, then as shipped). */
  lastArchivedSegment?: string;
  /** End of the WAL durably stored, partials included (an LSN like 0/3000000): what a restore can reach. */
  lastArchivedLsn?: string;
  /** The server's current WAL position at the last sample. */
  serverLsn?: string;
  /** Bytes of WAL the server has written beyond lastArchivedLsn, at the last sample. */
  lagBytes: number;
  /** Age in seconds of the oldest WAL not yet stored; 0 when caught up. */
  lagSeconds: number;
  /** Complete segments shipped by this run. */
  segmentsArchived: number;
  /** Partials uploaded by this run. */
  partialsUploaded: number;
  receiverRunning: boolean;
  /** How often pg_receivewal stopped and was restarted during this run. */
  receiverRestarts: number;
  /** The most recent failure the archiver waited out (repository, server or receiver), with what failed. */
  lastError?: string;
  /** When lastError happened (ISO 8601). */
  lastErrorTime?: string;
  updatedTime: string;
}

export async function storeArchiverState(path: string, state: WalArchiveState): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.tmp`;
  await writeFile(temp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(temp, path);
}
