// Keeps V8 from running a full (mark-compact) collection for every few tens of MB of stream buffers.
// Every chunk a stream passes on is an ArrayBuffer outside V8's heap, and V8 counts those bytes against the old
// generation's limit; with a small heap (a CLI or daemon holds ~12 MB) that limit sits only ~16 MB above what is
// live, below the ~32 MB of young buffers V8 lets pile up before a young collection. Measured on readObject of a
// 1 GiB object (fs, usr tar): 27-65 mark-compacts with V8's defaults, costing 1.5-2.5 CPU s on V8's helper threads
// and 25-30% of the read's speed; with the limit set to 7x the live heap after each full collection (600%), 0-2,
// and a lower peak RSS too (196-201 MB vs 213-215 with 300%). Node 24 (V8 13.6) starts incremental marking for
// external memory by itself: 256 MiB read back ran 23 mark-compacts untuned and 7-8 tuned, ~3 ms each on an 11 MB
// heap. Its --external-memory-accounted-in-global-limit brought that to 1 but raised the peak RSS from 216 to 336 MB. For a heap this small that is ~70 MB of headroom; the
// live heap of a streaming process stays small, so the multiple never gets large in absolute terms.
// An earlier remedy, forcing a young collection per 32 MiB of released buffers, made it worse: buffers still in
// flight survived the extra collections, were promoted, and only full collections could free them (up to 100 per GiB).
import { setFlagsFromString } from 'node:v8';

/** Old-generation growth after a full collection, in percent of the live heap (V8 picks 10-300% by itself). */
const HEAP_GROWING_PERCENT = 600;

let tuned = false;

/** Whether node was started with its own setting (`node --heap-growing-percent=N`), which then wins. */
function setByUser(): boolean {
  // Only the command line: node refuses this flag in NODE_OPTIONS.
  return process.execArgv.some((arg) => /heap[-_]growing[-_]percent/.test(arg));
}

/**
 * Apply the setting; idempotent. Call it first thing in a process's entry point, before loading the rest: set once
 * streams already run, it measured worse than V8's defaults (read peak 251-253 MB vs 234), set at startup better
 * (216 vs 234; S3 + KMS, 1 GiB usr tar), as if passed on node's command line.
 */
export function tuneHeapForStreams(): void {
  if (tuned) return;
  tuned = true;
  if (setByUser()) return;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}

/** Whether node was started with its own young-generation setting, which then wins. */
function semiSpaceSetByUser(): boolean {
  return [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((arg) => /semi[-_]space/.test(arg));
}

/**
 * For a process whose memory matters more than its last percent of speed (a restore, `wal fetch`): the young
 * generation stays at its initial size instead of growing to 16 MB per semi-space, so dead stream buffers (file
 * reads, decrypted frames) are freed by frequent cheap young collections instead of piling up, outside the heap,
 * until a full one. Measured reading a 337 MB base backup and 36 WAL segments (1 zstd thread, decoded blocks handed
 * straight to the sink): peak RSS 124-131 MB against 164-176, at the same speed. Unlike the young generation's
 * maximum size, the growth factor takes effect when set at run time. Idempotent; the streams tuning is not applied.
 */
export function tuneHeapForLowMemory(): void {
  if (tuned) return;
  tuned = true;
  if (semiSpaceSetByUser()) return;
  setFlagsFromString('--semi-space-growth-factor=1');
}

