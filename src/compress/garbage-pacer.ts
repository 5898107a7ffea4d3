// Keeps the memory of short-lived stream buffers from piling up. Every decoded block, frame and source chunk is an
// ArrayBuffer outside V8's heap; V8 frees such a buffer only when a collection finds it dead, and with streams
// allocating almost nothing on the heap itself, collections come only once ~64 MB of these buffers have piled up.
// Measured: that garbage was 60-90 MB of a 230-250 MB peak RSS when reading a 1 GiB object. A young-generation
// collection (a scavenge: a millisecond or two when the young generation holds little) after every 32 MiB of such
// buffers keeps it to that. `gc` is exposed at runtime the way Jest does it; without it the pacer does nothing.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type GcFunction = (options: { type: 'minor' | 'major'; execution: 'sync' | 'async' }) => void;

/** Buffer bytes let go between two collections, at most. */
const BYTES_PER_COLLECTION = 32 * 1024 * 1024;
/**
 * What one buffer counts for at least. V8 also does bookkeeping per buffer, and many small ones push it into full
 * (mark-compact) collections sooner than their bytes suggest. Measured on 1 GiB piped through writeObject in the
 * 64 KiB chunks of a pipe: ~45 mark-compacts with 32 MiB of chunks between young collections, 14-18 with 8 MiB
 * (and ~10% less CPU); decoded blocks (4 MiB each) gain nothing from more frequent collections.
 */
const MIN_BYTES_PER_BUFFER = 256 * 1024;

let gc: GcFunction | null | undefined;
let releasedBytes = 0;
let collections = 0;

function exposedGc(): GcFunction | null {
  if (gc === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as GcFunction;
    } catch {
      gc = null;
    }
  }
  return gc;
}

/**
 * Note that a buffer of `bytes` just became garbage (or will once the consumer is done with it); a young
 * collection runs once enough has accumulated. Cheap: a counter, and a scavenge per 32 MiB (or 128 buffers).
 */
export function noteReleasedBuffers(bytes: number): void {
  releasedBytes += Math.max(bytes, MIN_BYTES_PER_BUFFER);
  if (releasedBytes < BYTES_PER_COLLECTION) return;
  releasedBytes = 0;
  const collect = exposedGc();
  if (collect === null) return;
  collect({ type: 'minor', execution: 'sync' });
  collections++;
}

/** Collections the pacer has run in this process (for tests and metrics). */
export function pacedCollections(): number {
  return collections;
}
