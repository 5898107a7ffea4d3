// A pass-through stage that counts bytes and computes their SHA-256 as they flow, optionally failing at the end
// when they do not match what was expected. Used twice per object: on the content and on the stored bytes.
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/** Checks the final digest and size; returns the error to fail the stream with, or undefined. */
export type DigestCheck = (sha256: string, sizeBytes: number) => Error | undefined;

/** Chunks pass through untouched (no copy); the digest is available after the stream ends. */
export class DigestStream extends Transform {
  private readonly hash = createHash('sha256');
  private digestHex: string | undefined;
  /** Bytes seen so far. */
  sizeBytes = 0;

  constructor(private readonly check?: DigestCheck) {
    super({ readableHighWaterMark: 1024 * 1024, writableHighWaterMark: 1024 * 1024 });
  }

  /** The SHA-256 in lowercase hex; throws before the stream has ended. */
  get sha256(): string {
    if (this.digestHex === undefined) throw new Error('the digest is not known before the stream ends');
    return this.digestHex;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.sizeBytes += chunk.length;
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.digestHex = this.hash.digest('hex');
    callback(this.check?.(this.digestHex, this.sizeBytes) ?? null);
  }
}
