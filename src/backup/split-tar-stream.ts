// Cuts one tar stream (pg_basebackup -Ft -D -) into parts at member boundaries, each part a valid tar
// archive of its own, so parts can be stored as separate objects and restored in parallel. Memory stays
// bounded: bytes flow through with backpressure; only small named members are captured on the way.
import { once } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import { LifeboatError } from '../errors/index.js';
import { TAR_BLOCK_BYTES, isMetaHeader, isZeroBlock, paddedSize, parseTarHeader } from './tar-header.js';

export interface TarPart {
  /** 1-based part number. */
  partNumber: number;
  /** The part's bytes: whole members followed by an end-of-archive marker. */
  stream: Readable;
}

export interface SplitTarOptions {
  /** A part is closed at the first member boundary at or after this many bytes. */
  targetPartBytes: number;
  /** Store one part; called in order. The promise settles when the part is durable. */
  onPart(part: TarPart): Promise<void>;
  /** Parts whose storage may still be in progress while the next is being written; default 2. */
  maxPartsInFlight?: number;
  /** Member names whose last `maxBytes` bytes are captured (e.g. backup_label, backup_manifest). */
  capture?: { names: readonly string[]; maxBytes: number };
  signal?: AbortSignal;
  /** Called after each chunk of the source with the bytes consumed so far (for progress display). */
  onProgress?: (tarBytes: number) => void;
}

export interface SplitTarResult {
  parts: number;
  /** Bytes of the source tar up to and excluding its end-of-archive marker. */
  tarBytes: number;
  members: number;
  captured: Map<string, Buffer>;
}

const END_OF_ARCHIVE = Buffer.alloc(2 * TAR_BLOCK_BYTES);

class PartWriter {
  readonly stream = new PassThrough({ highWaterMark: 1 << 20 });
  bytes = 0;
  failure: unknown;
  readonly done: Promise<void>;

  constructor(partNumber: number, onPart: SplitTarOptions['onPart']) {
    this.done = onPart({ partNumber, stream: this.stream });
    // Remember a failure at once so the writer stops instead of waiting for a drain that never comes.
    this.done.catch((error: unknown) => {
      this.failure = error ?? new Error('part consumer failed');
      this.stream.destroy();
    });
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    this.bytes += chunk.length;
    if (!this.stream.write(chunk)) {
      await Promise.race([once(this.stream, 'drain'), this.done.then(() => undefined)]).catch(() => undefined);
      if (this.failure !== undefined) throw this.failure;
    }
  }

  end(): void {
    this.stream.end(END_OF_ARCHIVE);
  }
}

/** Split `source` into parts; resolves when every part is stored. */
export async function splitTarStream(source: Readable, options: SplitTarOptions): Promise<SplitTarResult> {
  const maxInFlight = options.maxPartsInFlight ?? 2;
  const captureNames = new Set(options.capture?.names ?? []);
  const captureMax = options.capture?.maxBytes ?? 0;
  const captured = new Map<string, Buffer>();
  const inFlight: PartWriter[] = [];
  let part: PartWriter | undefined;
  let partCount = 0;
  let tarBytes = 0;
  let members = 0;

  const header = Buffer.alloc(TAR_BLOCK_BYTES);
  let headerFill = 0;
  let remaining = 0; // data + padding bytes left in the current member
  let dataLeft = 0; // data bytes (without padding) left, for capture
  let captureName: string | undefined;
  let afterMeta = false;
  let ended = false;

  const openPart = async (): Promise<PartWriter> => {
    while (inFlight.length >= maxInFlight) await inFlight.shift()!.done;
    partCount += 1;
    const writer = new PartWriter(partCount, options.onPart);
    inFlight.push(writer);
    return writer;
  };

  const captureBytes = (bytes: Buffer): void => {
    if (!captureName) return;
    const previous = captured.get(captureName) ?? Buffer.alloc(0);
    const joined = Buffer.concat([previous, bytes]);
    captured.set(captureName, joined.length > captureMax ? joined.subarray(joined.length - captureMax) : joined);
  };

  try {
    for await (const raw of source) {
      options.signal?.throwIfAborted();
      const chunk = raw as Buffer;
      let offset = 0;
      while (offset < chunk.length && !ended) {
        if (remaining > 0) {
          const take = Math.min(remaining, chunk.length - offset);
          const slice = chunk.subarray(offset, offset + take);
          if (dataLeft > 0) captureBytes(slice.subarray(0, Math.min(dataLeft, take)));
          dataLeft = Math.max(0, dataLeft - take);
          await part!.write(slice);
          remaining -= take;
          tarBytes += take;
          offset += take;
          continue;
        }
        const take = Math.min(TAR_BLOCK_BYTES - headerFill, chunk.length - offset);
        chunk.copy(header, headerFill, offset, offset + take);
        headerFill += take;
        offset += take;
        if (headerFill < TAR_BLOCK_BYTES) continue;
        headerFill = 0;
        if (isZeroBlock(header)) {
          ended = true;
          break;
        }
        const parsed = parseTarHeader(header);
        // Cut only before a member's first header, never between a pax/long-name header and its member.
        if (!part || (!afterMeta && part.bytes >= options.targetPartBytes)) {
          part?.end();
          part = await openPart();
        }
        await part.write(Buffer.from(header));
        tarBytes += TAR_BLOCK_BYTES;
        afterMeta = isMetaHeader(parsed);
        if (!afterMeta) members += 1;
        remaining = paddedSize(parsed.sizeBytes);
        dataLeft = parsed.sizeBytes;
        captureName = !afterMeta && captureNames.has(parsed.name) ? parsed.name : undefined;
        if (captureName) captured.set(captureName, Buffer.alloc(0));
      }
      options.onProgress?.(tarBytes);
      // After the end-of-archive marker the rest of the stream is padding; keep reading so the producer exits.
    }
    if (!ended) {
      throw new LifeboatError('objectTruncated', `tar stream ended without an end-of-archive marker after ${tarBytes} bytes`, {
        hint: 'the producer (pg_basebackup) stopped early; its own error says why',
      });
    }
    if (!part) part = await openPart(); // an empty archive is still one valid (empty) part
    part.end();
    await Promise.all(inFlight.map((writer) => writer.done));
    return { parts: partCount, tarBytes, members, captured };
  } catch (error) {
    for (const writer of inFlight) writer.stream.destroy(error instanceof Error ? error : undefined);
    await Promise.allSettled(inFlight.map((writer) => writer.done));
    throw error;
  }
}
