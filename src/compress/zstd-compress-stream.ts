// Parallel zstd compression as a Duplex stream: input is cut into fixed-size blocks, each compressed into its own
// zstd frame on the worker pool, and the frames are emitted in input order. Concatenated frames are a valid zstd
// stream for any decoder (`zstd -d` included). Memory is bounded: at most `maxBlocksInFlight` blocks exist at once.
// Fed either by writes, or (given a BlockSource) by reading its source straight into the blocks.
import { Duplex } from 'node:stream';
import { LifeboatError } from '../errors/index.js';
import type { BlockSource } from './block-source.js';
import { copyOutOfSharedBlock, returnSharedBlock, takeSharedBlock } from './shared-blocks.js';
import { acquireZstdPool, ZstdWorkerError, type ZstdPoolLease } from './zstd-worker-pool.js';

/** Options for {@link ZstdCompressStream}. */
export interface ZstdCompressStreamOptions {
  /** zstd level, already validated. */
  level: number;
  /**
   * Input bytes per zstd frame. Default 2 MiB: the ratio is within 1% of 4 MiB frames on both benchmark data sets
   * (25.6x vs 25.4x, 3.23x vs 3.25x), and every block in flight (and its output block) costs half the memory. 4 MiB
   * measured faster on the pgbench tar in alternating pairs outside the bench (393-489 vs 325-409 MB/s), but not in
   * a bench run (usr tar 0.80x vs 0.85x of the CLI, writes peaking 18 MB higher), so 2 MiB stays.
   */
  blockSizeBytes?: number;
  /** Blocks submitted but not yet emitted, at most. Default twice the pool's threads (one running, one queued each). */
  maxBlocksInFlight?: number;
  /** What is being compressed, for error messages. */
  description?: string;
  /**
   * Also compute the SHA-256 of the content, on a worker of the pool, from the same shared blocks: the event
   * loop neither hashes nor copies the content a second time. Read it with `contentDigest()` once the stream ended.
   */
  hashContent?: boolean;
  /**
   * Read the content from this source into the input blocks instead of taking writes: the stream is then only a
   * Readable (writing to it fails) and ends after the source's end. A failing read destroys the stream with the
   * source's own error. The caller keeps ownership: it closes the source.
   */
  source?: BlockSource;
}

/** The content's SHA-256 and size, as computed by a hashing compress stream. */
export interface ContentDigest {
  sha256: string;
  sizeBytes: number;
}

/** Input bytes per zstd frame unless a stream asks otherwise (see ZstdCompressStreamOptions.blockSizeBytes). */
export const DEFAULT_ZSTD_BLOCK_BYTES = 2 * 1024 * 1024;

/** zstd's ZSTD_COMPRESSBOUND (zstd.h): the largest frame `sizeBytes` of input can compress to. */
function zstdCompressBound(sizeBytes: number): number {
  const small = 128 * 1024;
  return sizeBytes + (sizeBytes >>> 8) + (sizeBytes < small ? (small - sizeBytes) >>> 11 : 0);
}

export class ZstdCompressStream extends Duplex {
  private readonly lease: ZstdPoolLease;
  private readonly level: number;
  private readonly blockSizeBytes: number;
  private readonly maxBlocksInFlight: number;
  private readonly description: string;
  /** The block being filled, or undefined when the last one was submitted. */
  private block: Uint8Array<SharedArrayBuffer> | undefined;
  private blockFill = 0;
  private submitted = 0;
  private emitted = 0;
  private readonly finished = new Map<number, Buffer>();
  private readableWantsMore = true;
  /** Blocks handed to workers and not yet back in the free list (compression and, when hashing, the hash). */
  private blocksOut = 0;
  /** The hash session, when hashing; its blocks are sent in input order. */
  private readonly hashSession: number | undefined;
  private hashesPending = 0;
  private contentBytes = 0;
  private digest: ContentDigest | undefined;
  private digestRequested = false;
  /** A write waiting for a free block slot: the rest of its chunk and its callback. */
  private pendingWrite: { chunk: Uint8Array; callback: (error?: Error | null) => void } | undefined;
  private finalCallback: ((error?: Error | null) => void) | undefined;
  /** The source read into blocks (pull mode), whether a read is running, and whether it has ended. */
  private readonly source: BlockSource | undefined;
  private reading = false;
  private sourceEnded = false;

  constructor(options: ZstdCompressStreamOptions) {
    const blockSizeBytes = options.blockSizeBytes ?? DEFAULT_ZSTD_BLOCK_BYTES;
    // Room for a couple of frames: finished frames wait there while the workers keep going.
    super({ readableHighWaterMark: blockSizeBytes, writableHighWaterMark: 1024 * 1024 });
    this.lease = acquireZstdPool();
    this.level = options.level;
    this.blockSizeBytes = blockSizeBytes;
    this.maxBlocksInFlight = Math.max(2, options.maxBlocksInFlight ?? 2 * this.lease.pool.maxWorkers);
    this.description = options.description ?? 'data';
    if (options.hashContent === true) this.hashSession = this.lease.pool.openHashSession();
    this.source = options.source;
  }

  /** The content's SHA-256 and size; only for a stream made with `hashContent`, once it has ended. */
  contentDigest(): ContentDigest {
    if (this.digest === undefined) {
      throw new Error(this.hashSession === undefined ? 'this compress stream was made without hashContent' : 'the content digest is not known before the stream ends');
    }
    return this.digest;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.source !== undefined) {
      callback(new Error('this compress stream reads its own source; it cannot be written to'));
      return;
    }
    this.consume(chunk, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    // An empty input still becomes one (empty) frame: a zero-byte file is not a zstd stream.
    if (this.blockFill > 0 || this.submitted === 0) this.submitBlock();
    this.finalCallback = callback;
    this.maybeFinish();
  }

  override _read(): void {
    this.readableWantsMore = true;
    this.emitInOrder();
  }

  /**
   * Pull mode: read the source into a fresh block while there is room, one read at a time (reads run on libuv's
   * threads, so one ahead keeps the workers fed). A short read is the end: its bytes become the last block.
   */
  private pull(): void {
    const source = this.source;
    if (source === undefined || this.reading || this.sourceEnded || this.destroyed || !this.hasRoom()) return;
    this.reading = true;
    const block = new Uint8Array(takeSharedBlock(this.blockSizeBytes));
    source.readInto(block).then(
      (length) => {
        this.reading = false;
        if (this.destroyed) {
          returnSharedBlock(block.buffer);
          return;
        }
        if (length === block.length) {
          this.block = block;
          this.blockFill = length;
          this.submitBlock();
          this.pull();
          return;
        }
        this.sourceEnded = true;
        // _final submits what is left (and an empty frame for empty content).
        if (length > 0 || this.submitted === 0) {
          this.block = block;
          this.blockFill = length;
        } else {
          returnSharedBlock(block.buffer);
        }
        this.end();
      },
      (error: unknown) => {
        this.reading = false;
        returnSharedBlock(block.buffer);
        // The source's own failure, as thrown: its owner recognises it by identity.
        if (!this.destroyed) this.destroy(error as Error);
      },
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.lease.pool.cancel(this);
    if (this.hashSession !== undefined && this.digest === undefined) this.lease.pool.releaseSession(this.hashSession);
    this.lease.release();
    this.finished.clear();
    callback(error);
  }

  /** Copy `chunk` into blocks, submitting each full one; park the rest while too many blocks are in flight. */
  private consume(chunk: Uint8Array, callback: (error?: Error | null) => void): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (!this.hasRoom()) {
        this.pendingWrite = { chunk: chunk.subarray(offset), callback };
        return;
      }
      this.block ??= new Uint8Array(takeSharedBlock(this.blockSizeBytes));
      const take = Math.min(chunk.length - offset, this.blockSizeBytes - this.blockFill);
      this.block.set(chunk.subarray(offset, offset + take), this.blockFill);
      this.blockFill += take;
      offset += take;
      if (this.blockFill === this.blockSizeBytes) this.submitBlock();
    }
    callback();
  }

  /** Room for another block: few enough frames unemitted, and few enough blocks still held by workers. */
  private hasRoom(): boolean {
    return this.submitted - this.emitted < this.maxBlocksInFlight && this.blocksOut < this.maxBlocksInFlight;
  }

  /** One use of `block` by a worker ended; the last one returns it to the free list and may let a parked write go on. */
  private blockDone(block: SharedArrayBuffer, uses: { left: number }): void {
    if (--uses.left > 0) return;
    returnSharedBlock(block);
    this.blocksOut--;
    if (!this.destroyed) this.emitInOrder();
  }

  private submitBlock(): void {
    const input = this.block?.buffer ?? takeSharedBlock(this.blockSizeBytes);
    const length = this.blockFill;
    const seq = this.submitted++;
    this.block = undefined;
    this.blockFill = 0;
    this.contentBytes += length;
    this.blocksOut++;
    // The block goes back for reuse once every worker given it is done, whatever happened to this stream.
    const uses = { left: this.hashSession === undefined ? 1 : 2 };
    if (this.hashSession !== undefined) {
      this.hashesPending++;
      this.lease.pool.hash(this, this.hashSession, input, length).then(
        () => {
          this.hashesPending--;
          this.blockDone(input, uses);
        },
        (error: unknown) => {
          this.hashesPending--;
          this.blockDone(input, uses);
          if (!this.destroyed) this.destroy(this.wrapError(error));
        },
      );
    }
    const output = takeSharedBlock(zstdCompressBound(this.blockSizeBytes));
    this.lease.pool.compress(this, input, length, output, this.level).then(
      (reply) => {
        if (!this.destroyed) this.finished.set(seq, copyOutOfSharedBlock(output, reply.outputLength));
        returnSharedBlock(output);
        this.blockDone(input, uses);
      },
      (error: unknown) => {
        returnSharedBlock(output);
        this.blockDone(input, uses);
        if (!this.destroyed) this.destroy(this.wrapError(error));
      },
    );
  }

  /** Push finished frames in input order while the reader wants them, then let parked writes continue. */
  private emitInOrder(): void {
    while (this.readableWantsMore) {
      const frame = this.finished.get(this.emitted);
      if (frame === undefined) break;
      this.finished.delete(this.emitted);
      this.emitted++;
      this.readableWantsMore = this.push(frame);
    }
    const parked = this.pendingWrite;
    if (parked !== undefined && this.hasRoom()) {
      this.pendingWrite = undefined;
      this.consume(parked.chunk, parked.callback);
    }
    this.pull();
    this.maybeFinish();
  }

  private maybeFinish(): void {
    const callback = this.finalCallback;
    if (callback === undefined || this.emitted < this.submitted) return;
    const session = this.hashSession;
    if (session !== undefined && this.digest === undefined) {
      // Every block hashed; the digest request queues behind them on the hash thread anyway.
      if (this.hashesPending > 0 || this.digestRequested) return;
      this.digestRequested = true;
      this.lease.pool.digest(this, session).then(
        (sha256) => {
          this.digest = { sha256, sizeBytes: this.contentBytes };
          if (!this.destroyed) this.maybeFinish();
        },
        (error: unknown) => {
          if (!this.destroyed) this.destroy(this.wrapError(error));
        },
      );
      return;
    }
    this.finalCallback = undefined;
    this.push(null);
    callback();
  }

  private wrapError(error: unknown): Error {
    const message = error instanceof Error ? error.message : String(error);
    return new LifeboatError('internal', `zstd compression of ${this.description} failed: ${message}`, {
      hint: error instanceof ZstdWorkerError && error.kind === 'crashed'
        ? 'a compression worker thread died (out of memory?); retry, and report it if it repeats'
        : 'this is a bug in lifeboat; please report it',
      cause: error,
    });
  }
}
