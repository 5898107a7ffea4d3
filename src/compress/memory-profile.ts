// How a process spends memory: `throughput` for the long streaming commands (backups, WAL archiving, the daemon's
// jobs), `low-memory` for a restore and `wal fetch`, which run beside the PostgreSQL they restore (issue: a restore
// under 150 MB). Applied first thing in the entry point, before streams run.
import { tuneHeapForLowMemory, tuneHeapForStreams } from './heap-tuning.js';
import { configureZstdPool } from './zstd-worker-pool.js';

export type MemoryProfile = 'throughput' | 'low-memory';

/**
 * Applies `profile`. `low-memory` also runs zstd on the calling thread (zstd-inline-thread.ts) instead of a worker:
 * a worker thread is an isolate of its own, 10-20 MB with the garbage its heap keeps. Measured restoring pgbench
 * scale 100 (1.6 GB base, 36 and 82 WAL segments), RSS sampled every 20 ms: peak 131-139 MB inline against 150-160
 * with one worker thread (168 in the vs-pgbackrest bench). The base fetch takes 0.6-1.9 s longer (one thread now
 * decrypts and decodes), but replay, which shares the two cores with the WAL prefetch, waits less: the whole restore
 * took the same time to a PITR target (6.8-7.2 s against 7.0-7.2) and ~5% longer to the latest point.
 */
export function applyMemoryProfile(profile: MemoryProfile): void {
  if (profile === 'throughput') {
    tuneHeapForStreams();
    return;
  }
  tuneHeapForLowMemory();
  configureZstdPool({ inline: true });
}
