// How a process spends memory: `throughput` for the long streaming commands (backups, WAL archiving, the daemon's
// jobs), `low-memory` for a restore and `wal fetch`, which run beside the PostgreSQL they restore (issue: a restore
// under 150 MB). Applied first thing in the entry point, before streams run.
import { tuneHeapForLowMemory, tuneHeapForStreams } from './heap-tuning.js';
import { configureZstdPool } from './zstd-worker-pool.js';

export type MemoryProfile = 'throughput' | 'low-memory';

/**
 * Applies `profile`. `low-memory` also caps the zstd pool at one thread: decoding is not what limits a restore (the
 * main thread's decryption and checksums are), and each thread costs 10-20 MB. Measured on the restore bench's
 * reads (337 MB base, 36 segments): one thread 124-131 MB peak, two 144-147, at the same speed within noise.
 */
export function applyMemoryProfile(profile: MemoryProfile): void {
  if (profile === 'throughput') {
    tuneHeapForStreams();
    return;
  }
  tuneHeapForLowMemory();
  configureZstdPool({ maxWorkers: 1 });
}
