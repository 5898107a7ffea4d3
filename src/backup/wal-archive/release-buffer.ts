// Gives a large buffer's memory back the moment its reader is done, instead of at V8's next full collection: the
// archiver reads each head partial whole (16 MiB, pg_receivewal pre-fills it), every partial interval and every
// 100 ms while catching up at a stop, and those buffers piled up (external memory triggers a full collection only
// after ~64 MB), raising the archiver's RSS by 16-48 MB between collections.

/** Detach `buffer`'s memory now. Only for a buffer that owns its whole ArrayBuffer and that nothing reads any more. */
export function releaseBuffer(buffer: Buffer): void {
  const whole = buffer.buffer as ArrayBuffer & { transfer?: (newLength?: number) => ArrayBuffer };
  // A pooled (small) Buffer shares its ArrayBuffer with others: it must never be detached.
  if (buffer.byteOffset !== 0 || buffer.byteLength !== whole.byteLength || whole.transfer === undefined) return;
  // Transferring to a zero-length buffer frees the old memory at once (Node 21+); the old views become empty.
  whole.transfer(0);
}
