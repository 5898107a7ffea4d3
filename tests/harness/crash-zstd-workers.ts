// Crashes the zstd pool's threads until a running stream settles. A crash of a worker that happens to be idle (a
// block between submissions, on a loaded host) is harmless and proves nothing, so keep crashing until one hits
// work in flight.
import { setTimeout as sleep } from 'node:timers/promises';
import { currentZstdPool } from '../../src/compress/zstd-worker-pool.js';

/** Resolves with what `running` settled with (its error, for a stream that failed). */
export async function crashZstdWorkersUntilSettled<T>(running: Promise<T>): Promise<T> {
  let settled = false;
  void running.then(() => (settled = true));
  while (!settled) {
    await currentZstdPool()?.crashForTests();
    await sleep(20);
  }
  return running;
}
