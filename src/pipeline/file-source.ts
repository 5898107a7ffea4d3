// A file as writeObject's source, read straight into the compressor's blocks (see compress/block-source.ts):
// 2 MiB positional reads instead of a Buffer per 64 KiB, which measured as a third of writeObject's CPU on the
// event loop and in the garbage collector. Used for WAL segments from the spool; streams stay for pipes.
import { open, type FileHandle } from 'node:fs/promises';
import type { BlockSource } from '../compress/index.js';

/**
 * The content of the file at `path`. Opened on the first read, like fs.createReadStream, so a missing file fails
 * the write that reads it (with the fs error, unchanged) rather than this call. Close it when done; writeObject
 * closes the sources it is given.
 */
export function fileSource(path: string): BlockSource {
  let opening: Promise<FileHandle> | undefined;
  let closed = false;
  let position = 0;
  return {
    async readInto(target: Uint8Array): Promise<number> {
      if (closed) throw new Error(`reading ${path} after it was closed`);
      opening ??= open(path, 'r');
      const handle = await opening;
      let filled = 0;
      // A read may return less than asked before the end; only 0 means the end.
      while (filled < target.length) {
        const { bytesRead } = await handle.read(target, filled, target.length - filled, position);
        if (bytesRead === 0) break;
        filled += bytesRead;
        position += bytesRead;
      }
      return filled;
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      const handle = await opening?.catch(() => undefined);
      await handle?.close();
    },
  };
}
