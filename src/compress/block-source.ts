// A source that reads straight into memory the reader provides. The zstd compressor hands it its shared input
// blocks, so content read from a file goes from the page cache into the block a worker compresses: no chunk
// Buffers for the garbage collector (a gigabyte of them per gigabyte stored), no copy on the event loop.
import { Readable } from 'node:stream';

/** Content that can be read into caller-provided memory; see {@link isBlockSource}. */
export interface BlockSource {
  /**
   * Fill `target` with the next bytes of the content; resolves with how many were written, fewer than
   * `target.length` only at the end (0 once the content is exhausted). One call at a time.
   */
  readInto(target: Uint8Array): Promise<number>;
  /** Let go of what the source holds (its file); safe to call more than once. */
  close(): Promise<void>;
}

export function isBlockSource(value: unknown): value is BlockSource {
  return typeof value === 'object' && value !== null && typeof (value as Partial<BlockSource>).readInto === 'function';
}

/** Chunk size when a block source feeds a stream (gzip, none): zlib's own chunk size order. */
const STREAM_CHUNK_BYTES = 256 * 1024;

/** The source as a Readable, for consumers that take streams (gzip, no compression). Does not close the source. */
export function blockSourceToReadable(source: BlockSource): Readable {
  async function* chunks(): AsyncGenerator<Buffer> {
    for (;;) {
      const chunk = Buffer.allocUnsafe(STREAM_CHUNK_BYTES);
      const length = await source.readInto(chunk);
      if (length > 0) yield chunk.subarray(0, length);
      if (length < chunk.length) return;
    }
  }
  return Readable.from(chunks(), { objectMode: false, highWaterMark: STREAM_CHUNK_BYTES });
}
