// Part-sized buffers for S3 uploads, reused across parts and uploads. A fresh 5-8 MiB buffer per part churns the
// allocator: glibc serves such sizes from its heap once its mmap threshold has risen, and the holes they leave stay
// resident (measured: ~60 MB of [heap] after a 1 GiB upload). A small free list keeps that memory flat, and is
// dropped once no upload has needed it for a moment, so an idle daemon (or a restore after a backup) holds none.

/** Free buffers kept per size: the parts in flight of one or two concurrent uploads, plus the one being filled. */
const MAX_FREE_PER_SIZE = 10;
/** Idle time after which the free buffers are let go. Short: uploads of a WAL burst follow each other closely. */
const IDLE_RELEASE_MS = 500;

const free = new Map<number, Buffer[]>();
let idleTimer: NodeJS.Timeout | undefined;

/** A buffer of exactly `sizeBytes` with unspecified content (a reused one, or a new one). */
export function takePartBuffer(sizeBytes: number): Buffer {
  armIdleRelease();
  return free.get(sizeBytes)?.pop() ?? Buffer.allocUnsafeSlow(sizeBytes);
}

/**
 * Hand `buffer` back for reuse. Only once nothing reads it any more: for an upload part, when its request has
 * settled (a settled request has no body bytes left to send on a live connection).
 */
export function releasePartBuffer(buffer: Buffer): void {
  const list = free.get(buffer.length) ?? [];
  if (list.length < MAX_FREE_PER_SIZE) list.push(buffer);
  free.set(buffer.length, list);
  armIdleRelease();
}

/** (Re)start the idle countdown: every take and release shows the pool is in use. */
function armIdleRelease(): void {
  if (idleTimer !== undefined) clearTimeout(idleTimer);
  idleTimer = setTimeout(() => {
    idleTimer = undefined;
    free.clear();
  }, IDLE_RELEASE_MS);
  idleTimer.unref();
}
