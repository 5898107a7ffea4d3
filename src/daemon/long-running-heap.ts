// The heap policy of the processes that run for months and stream little: the daemon (its jobs run in child
// processes with the streaming heap of compress/heap-tuning.ts) and its WAL archiver child (one segment at a time).
// V8 grows the young generation up to 2 x 32 MB on 64-bit while start-up allocates (module loading, zod schemas)
// and, with no pressure afterwards, keeps it: an idle daemon held a 67 MB young generation with 2 MB live in it.
// Keeping it at its initial size (1 MB semi-spaces) measured, for an idle daemon, 121-123 -> 112-113 MB RSS, and
// for the archiver under pgbench a V8 heap of 22 MB instead of 37.
import { setFlagsFromString } from 'node:v8';

let tuned = false;

/** Whether node was started with a young-generation size of its own (`node --max-semi-space-size=N`), which wins. */
function setByUser(): boolean {
  return process.execArgv.some((arg) => /semi[-_]space/.test(arg));
}

/** Apply the policy; idempotent. Call it first thing in the process, before the modules load. */
export function tuneHeapForLongRunning(): void {
  if (tuned) return;
  tuned = true;
  if (setByUser()) return;
  setFlagsFromString('--semi-space-growth-factor=1');
}

/**
 * glibc malloc settings for a long-running child process (read by glibc at process start, so they go into the
 * child's environment; values already in the environment win). Buffers of 128 KiB and more (segment reads,
 * compressed frames) are mmapped and returned to the system when freed, instead of fragmenting the main heap,
 * which glibc's adaptive threshold let grow from 11 to 47 MB in the archiver; and two arenas, not one per thread
 * (zstd worker, libuv pool). Measured on the archiver under pgbench: steady RSS 110-117 -> 96-110 MB.
 */
export const LONG_RUNNING_MALLOC_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072' };
