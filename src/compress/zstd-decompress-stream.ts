// Streaming zstd decompression as a Duplex stream, run on one thread of the shared worker pool (decoding is several
// times faster than encoding, so one thread keeps up). Reads any zstd stream, one frame or many. Memory is bounded:
// input is sent in batches and each worker reply carries at most `maxOutputBytes`, fetched only when the reader wants it.
import { Duplex } from 'node:stream';
import { LifeboatError } from '../errors/index.js';
import { copyOutOfSharedBlock, returnSharedBlock, takeSharedBlock } from './shared-blocks.js';
import type { ContentDigest } from './zstd-compress-stream.js';
import { acquireZstdPool, ZstdWorkerError, type ZstdPoolLease } from './zstd-worker-pool.js';

/** Options for {@link ZstdDecompressStream}. */
export interface ZstdDecompressStreamOptions {
  /** What is being decompressed, for error messages. */
  description?: string;
  /** Compressed bytes gathered before a round trip to the worker. Default 1 MiB. */
  inputBatchBytes?: number;
  /**
   * Decompressed bytes per worker reply, at most. Default 1 MiB: measured on 1 GiB reads, peak RSS 172-194 MB
   * against 197-226 with 4 MiB, at the same speed on the pgbench tar and within the noise on the usr tar (three
   * requests in flight; with two, 1 MiB replies were ~15% slower there).
   */
  maxOutputBytes?: number;
  /**
   * Compute the SHA-256 of the decompressed content on the worker that decodes it, and call this with it before
   * the stream ends; an error it returns fails the stream instead of ending it (a checksum mismatch, say).
   */
  verifyContent?: (digest: ContentDigest) => Error | undefined;
}

/** Worker requests outstanding per stream: one being decoded and two waiting, so the worker never idles on a round trip. */
const MAX_REQUESTS_IN_FLIGHT = 3;

export class ZstdDecompressStream extends Duplex {
  private readonly lease: ZstdPoolLease;
  private readonly session: number;
  private readonly description: string;
  private readonly inputBatchBytes: number;
  private readonly maxOutputBytes: number;
  private pendingInput: Buffer[] = [];
  private pendingBytes = 0;
  private sawInput = false;
  private requestsInFlight = 0;
  /** The worker still holds output for input it was given (as of the latest reply). */
  private moreOutput = false;
  private inFrame = false;
  private readableWantsMore = true;
  private writeCallback: ((error?: Error | null) => void) | undefined;
  private finalCallback: ((error?: Error | null) => void) | undefined;
  private readonly verifyContent: ((digest: ContentDigest) => Error | undefined) | undefined;
  private contentBytes = 0;
  private sentFirstRequest = false;

  constructor(options: ZstdDecompressStreamOptions = {}) {
    const maxOutputBytes = options.maxOutputBytes ?? 1024 * 1024;
    // Room for two replies: the worker decodes the next batch while the reader still consumes this one.
    super({ readableHighWaterMark: 2 * maxOutputBytes, writableHighWaterMark: 1024 * 1024 });
    this.lease = acquireZstdPool();
    this.session = this.lease.pool.openSession();
    this.description = options.description ?? 'data';
    this.inputBatchBytes = options.inputBatchBytes ?? 1024 * 1024;
    this.maxOutputBytes = maxOutputBytes;
    this.verifyContent = options.verifyContent;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (chunk.length > 0) {
      this.pendingInput.push(chunk);
      this.pendingBytes += chunk.length;
      this.sawInput = true;
    }
    if (this.pendingBytes < this.inputBatchBytes) callback();
    else this.writeCallback = callback;
    this.pump();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.finalCallback = callback;
    this.pump();
  }

  override _read(): void {
    this.readableWantsMore = true;
    this.pump();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.lease.pool.releaseSession(this.session);
    this.lease.release();
    callback(error);
  }

  /**
   * Decide the next step: send the next input batch, collect output the worker still holds, or finish. Several
   * requests may be in flight, so the worker decodes the next batch while this thread passes the last output downstream.
   */
  private pump(): void {
    if (this.requestsInFlight >= MAX_REQUESTS_IN_FLIGHT || this.destroyed || !this.readableWantsMore) return;
    // New input only once the worker has handed over everything it decoded: otherwise compressed input piles up in
    // the worker while its output waits for the reader (25x-compressible data: one batch holds 25 MiB of output).
    // Pending writes wait meanwhile, which is the backpressure on the decryption stage.
    if (this.moreOutput) {
      // Output requests may overlap too: a later one returns empty if an earlier one drained the decoder.
      this.request(undefined, 0);
      return;
    }
    if (this.pendingBytes > 0 && (this.pendingBytes >= this.inputBatchBytes || this.finalCallback !== undefined)) {
      // A shared block in whole batches (a batch overshoots by up to one write), so blocks of few sizes get reused.
      const batch = new Uint8Array(takeSharedBlock(Math.ceil(this.pendingBytes / this.inputBatchBytes) * this.inputBatchBytes));
      let offset = 0;
      for (const chunk of this.pendingInput) {
        batch.set(chunk, offset);
        offset += chunk.length;
      }
      this.pendingInput = [];
      this.pendingBytes = 0;
      this.request(batch.buffer, offset);
      const callback = this.writeCallback;
      this.writeCallback = undefined;
      callback?.();
      return;
    }
    if (this.requestsInFlight === 0 && this.finalCallback !== undefined && this.pendingBytes === 0) this.finish(this.finalCallback);
  }

  private request(input: SharedArrayBuffer | undefined, length: number): void {
    this.requestsInFlight++;
    const hash = this.verifyContent !== undefined && !this.sentFirstRequest;
    this.sentFirstRequest = true;
    // Input and output in shared memory, output copied out here (see shared-blocks.ts for why nothing is transferred).
    const output = takeSharedBlock(this.maxOutputBytes);
    const release = (): void => {
      returnSharedBlock(output);
      if (input !== undefined) returnSharedBlock(input);
    };
    this.lease.pool.decompress(this, this.session, input, length, output, hash).then(
      (reply) => {
        const decoded = this.destroyed || reply.outputLength === 0 ? undefined : copyOutOfSharedBlock(output, reply.outputLength);
        release();
        if (this.destroyed) return;
        this.requestsInFlight--;
        this.moreOutput = reply.drained !== true;
        this.inFrame = reply.inFrame === true;
        if (decoded !== undefined) {
          this.contentBytes += decoded.length;
          this.readableWantsMore = this.push(decoded);
        }
        this.pump();
      },
      (error: unknown) => {
        release();
        if (!this.destroyed) this.destroy(this.wrapError(error));
      },
    );
  }

  private finish(callback: (error?: Error | null) => void): void {
    this.finalCallback = undefined;
    if (!this.sawInput || this.inFrame) {
      const what = this.sawInput ? 'ends inside a zstd frame' : 'is empty, not a zstd stream';
      callback(new LifeboatError('objectCorrupted', `the compressed data of ${this.description} ${what}`, {
        hint: 'the object was written incompletely or with another format; use another copy or backup',
      }));
      return;
    }
    const verify = this.verifyContent;
    if (verify === undefined) {
      this.push(null);
      callback();
      return;
    }
    // The digest request queues behind every decode of this session on its worker.
    this.lease.pool.digest(this, this.session).then(
      (sha256) => {
        const failure = verify({ sha256, sizeBytes: this.contentBytes });
        if (failure !== undefined) {
          callback(failure);
          return;
        }
        this.push(null);
        callback();
      },
      (error: unknown) => callback(this.wrapError(error)),
    );
  }

  private wrapError(error: unknown): Error {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof ZstdWorkerError && error.kind === 'failed') {
      return new LifeboatError('objectCorrupted', `the compressed data of ${this.description} is not valid zstd: ${message}`, {
        hint: 'the object was written with another format or damaged before encryption; use another copy or backup',
        cause: error,
      });
    }
    return new LifeboatError('internal', `zstd decompression of ${this.description} failed: ${message}`, {
      hint: 'a decompression worker thread died (out of memory?); retry, and report it if it repeats',
      cause: error,
    });
  }
}
