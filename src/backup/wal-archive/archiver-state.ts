// The archiver's externally visible state: what is archived, how far behind, and the receiver's health.
// Written to the state folder (for `lifeboat wal status` and the daemon) and passed to an observer.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface WalArchiveState {
  cluster: string;
  /** Newest complete segment durably stored. */
  lastArchivedSegment?: string;
  /** End of the WAL durably stored, partials included (an LSN like 0/3000000). */
  lastArchivedLsn?: string;
  /** The server's current WAL position at the last sample. */
  serverLsn?: string;
  lagBytes: number;
  lagSeconds: number;
  segmentsArchived: number;
  partialsUploaded: number;
  receiverRunning: boolean;
  receiverRestarts: number;
  lastError?: string;
  updatedTime: string;
}

export async function storeArchiverState(path: string, state: WalArchiveState): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.tmp`;
  await writeFile(temp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(temp, path);
}
