// How far the archive trails the primary, in bytes and in seconds. Seconds are the age of the oldest WAL not
// yet in the repository, from samples of the server's position over time (no clock on the server needed).
import type { Lsn } from '../../postgres/index.js';

interface Sample {
  atMs: number;
  serverLsn: Lsn;
}

/** Samples older than this are dropped; lag beyond it is reported as at least this old. */
const MAX_HISTORY_MS = 6 * 60 * 60 * 1000;

export class ArchiveLag {
  readonly #samples: Sample[] = [];

  /** Record the server's current position. */
  sample(serverLsn: Lsn, atMs: number): void {
    this.#samples.push({ atMs, serverLsn });
    while (this.#samples.length > 2 && this.#samples[0]!.atMs < atMs - MAX_HISTORY_MS) this.#samples.shift();
  }

  /** Lag of `archivedLsn` behind the newest sample. */
  measure(archivedLsn: Lsn | undefined, nowMs: number): { lagBytes: number; lagSeconds: number } {
    const newest = this.#samples.at(-1);
    if (!newest) return { lagBytes: 0, lagSeconds: 0 };
    const archived = archivedLsn ?? (0n as Lsn);
    const lagBytes = newest.serverLsn > archived ? Number(newest.serverLsn - archived) : 0;
    if (lagBytes === 0) return { lagBytes, lagSeconds: 0 };
    // The unarchived WAL was written after the last moment the server was not yet past the archive.
    let caughtUpAtMs = this.#samples[0]!.atMs;
    for (const sample of this.#samples) if (sample.serverLsn <= archived) caughtUpAtMs = sample.atMs;
    return { lagBytes, lagSeconds: Math.max(0, (nowMs - caughtUpAtMs) / 1000) };
  }
}
