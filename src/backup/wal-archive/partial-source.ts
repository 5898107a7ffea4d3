// The content uploaded for a head partial: the file's first `validBytes` (the WAL its scan found valid), then zeros
// to the segment's size. pg_receivewal keeps appending while the upload streams, so the bytes after the scanned end
// may change under the reader; the zeros make the stored object exactly what its name says (WAL to that LSN, like
// a segment pg_receivewal pre-filled and wrote up to there), whatever arrived meanwhile.
import type { BlockSource } from '../../compress/index.js';
import { LifeboatError } from '../../errors/index.js';
import { fileSource } from '../../pipeline/index.js';

/** `path`'s first `validBytes`, zero-padded to `totalBytes`, read into the compressor's blocks. */
export function zeroPaddedPrefixSource(path: string, validBytes: number, totalBytes: number): BlockSource {
  const file = fileSource(path);
  let position = 0;
  return {
    async readInto(target: Uint8Array): Promise<number> {
      let filled = 0;
      if (position < validBytes) {
        const wanted = Math.min(target.length, validBytes - position);
        filled = await file.readInto(target.subarray(0, wanted));
        position += filled;
        // WAL once written is never taken back: a shorter file is not the partial that was scanned.
        if (filled < wanted) throw new LifeboatError('internal', `${path} shrank below the ${validBytes} bytes of WAL scanned in it`);
      }
      const zeros = Math.min(target.length - filled, totalBytes - position);
      target.fill(0, filled, filled + zeros);
      position += zeros;
      return filled + zeros;
    },
    close: () => file.close(),
  };
}
