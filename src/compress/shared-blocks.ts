// Shared memory blocks the streams lend to zstd workers: input blocks to compress or decode, and output blocks a
// worker writes frames or decoded bytes into. Reused, never transferred, for two measured reasons:
// - an ArrayBuffer posted to a worker stays referenced by that worker's heap until the worker collects garbage
//   (rarely: 16 MiB per WAL segment piled up in the archiver until the pool went idle, and tens of MB of
//   compressed input in a decoding worker);
// - an ArrayBuffer *transferred* from a worker lands in this thread's heap where only a full (mark-compact)
//   collection frees it: 1 GiB of decoded output arriving that way cost 40-68 mark-compacts per read (1-2 CPU s of
//   GC threads), where the same bytes copied into buffers allocated here are freed by cheap young collections.
// A bounded free list per size keeps memory flat across any number of streams.

/** Free blocks kept per size: enough for the in-flight blocks of a few concurrent streams. */
const MAX_FREE_BLOCKS_PER_SIZE = 16;

/**
 * Larger blocks are not kept: the streams' own sizes stay below this (2 MiB blocks and their compressBound, 1-2 MiB
 * decoder batches), and a one-off block sized for an unusually large write should not stay resident for good.
 */
const MAX_KEPT_BLOCK_BYTES = 8 * 1024 * 1024;

const freeBlocks = new Map<number, SharedArrayBuffer[]>();

/** A block of exactly `sizeBytes`, reused when one is free. */
export function takeSharedBlock(sizeBytes: number): SharedArrayBuffer {
  return freeBlocks.get(sizeBytes)?.pop() ?? new SharedArrayBuffer(sizeBytes);
}

/** Give `block` back once no worker or stream uses it any more. */
export function returnSharedBlock(block: SharedArrayBuffer): void {
  if (block.byteLength > MAX_KEPT_BLOCK_BYTES) return;
  const list = freeBlocks.get(block.byteLength) ?? [];
  if (list.length < MAX_FREE_BLOCKS_PER_SIZE) list.push(block);
  freeBlocks.set(block.byteLength, list);
}

/**
 * `block[0, length)` copied into a buffer of this thread's own: the block can be reused at once, and the copy is
 * young garbage once the reader is done with it.
 */
export function copyOutOfSharedBlock(block: SharedArrayBuffer, length: number): Buffer {
  const copy = Buffer.allocUnsafeSlow(length);
  copy.set(new Uint8Array(block, 0, length));
  return copy;
}
