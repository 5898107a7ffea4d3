// Cuts an upload body into fixed-size parts for S3 multipart uploads. Each part is a Buffer, so the SDK can
// retry it (a half-sent stream cannot be replayed) and hash it; only the part being filled is held here,
// and the stream is read only as fast as parts are taken, which is what bounds the upload's memory.
import type { Readable } from 'node:stream';
import { releasePartBuffer, takePartBuffer } from './part-buffer-pool.js';

/** One part of a body: exactly `partSizeBytes` long, except the last, which may be shorter (or empty). */
export interface BodyPart {
  data: Buffer;
  /** True for the final part; known without an extra round because the next chunk is peeked first. */
  isLast: boolean;
  /** Call once `data` is no longer read (its request settled): its memory is reused for a later part. */
  release(): void;
}

const keep = (): void => undefined;

/** Parts up to this size are joined from their chunks at the end; larger ones are copied in as they fill. */
const SMALL_PART_BYTES = 1024 * 1024;

function* sliceBuffer(body: Uint8Array, partSizeBytes: number): Generator<BodyPart> {
  const whole = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  let offset = 0;
  do {
    const end = Math.min(offset + partSizeBytes, whole.length);
    yield { data: whole.subarray(offset, end), isLast: end === whole.length, release: keep };
    offset = end;
  } while (offset < whole.length);
}

async function* sliceStream(body: Readable, partSizeBytes: number): AsyncGenerator<BodyPart> {
  const chunks = body[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  const smallPartBytes = Math.min(SMALL_PART_BYTES, partSizeBytes);
  let pending: Buffer | undefined;
  let ended = false;
  const nextChunk = async (): Promise<Buffer | undefined> => {
    while (pending === undefined || pending.length === 0) {
      if (ended) return undefined;
      const next = await chunks.next();
      if (next.done === true) ended = true;
      else pending = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    }
    const chunk = pending;
    pending = undefined;
    return chunk;
  };
  try {
    for (;;) {
      // Small bodies are kept as their chunks and cost only their size. Past SMALL_PART_BYTES the part is
      // copied into one part-sized buffer as it fills, so there is never a second copy of a whole part.
      let pieces: Buffer[] = [];
      let whole: Buffer | undefined;
      let filled = 0;
      while (filled < partSizeBytes) {
        const chunk = await nextChunk();
        if (chunk === undefined) break;
        const taken = Math.min(chunk.length, partSizeBytes - filled);
        const piece = taken === chunk.length ? chunk : chunk.subarray(0, taken);
        if (taken < chunk.length) pending = chunk.subarray(taken);
        if (whole === undefined && filled + taken > smallPartBytes) {
          whole = takePartBuffer(partSizeBytes);
          Buffer.concat(pieces, filled).copy(whole);
          pieces = [];
        }
        if (whole === undefined) pieces.push(piece);
        else piece.copy(whole, filled);
        filled += taken;
      }
      // Peek one chunk so the caller knows a full part is the last one (a single PUT then suffices).
      const following = await nextChunk();
      pending = following;
      const data = whole === undefined ? Buffer.concat(pieces, filled) : whole.subarray(0, filled);
      const filledBuffer = whole;
      let released = false;
      const release = filledBuffer === undefined ? keep : (): void => {
        if (released) return;
        released = true;
        releasePartBuffer(filledBuffer);
      };
      let part: BodyPart | undefined = { data, isLast: following === undefined, release };
      // Drop every reference we hold once the part is handed over: a suspended generator keeps its locals
      // alive, and a stale part here would be one more part in memory than the bound promises.
      pieces = [];
      whole = undefined;
      yield part;
      part = undefined;
      if (following === undefined) return;
    }
  } finally {
    // Stopped early (failure or abort): destroy the body so its producer stops too.
    if (!ended) await chunks.return?.();
  }
}

/**
 * Yields `body` as parts of `partSizeBytes` (the last one shorter; an empty body yields one empty part).
 * Buffers are sliced without copying. Streams are read lazily; an error or abort of the stream is thrown from
 * the iteration unchanged, and abandoning the iteration destroys the stream.
 */
export function splitIntoParts(body: Readable | Uint8Array, partSizeBytes: number): AsyncGenerator<BodyPart> {
  if (body instanceof Uint8Array) {
    const parts = sliceBuffer(body, partSizeBytes);
    return (async function* () {
      yield* parts;
    })();
  }
  return sliceStream(body, partSizeBytes);
}
