// Wraps an ESDK encrypt/decrypt stream (a duplexify over readable-stream 3) in a plain Node Duplex whose errors
// are LifeboatErrors naming the object. It never destroys the ESDK stream: the ESDK's encrypt stream pipes two
// inner streams without an error callback, so a premature close there is *thrown* (an uncaught exception that
// would kill the daemon). When this stream is destroyed early, the ESDK stream is ended and drained instead.
import { Duplex } from 'node:stream';
import { FRAME_LENGTH_BYTES } from './esdk-client.js';

export class EsdkStreamAdapter extends Duplex {
  private innerEnded = false;
  private innerFailed = false;
  private innerEndCalled = false;
  private discarding = false;

  constructor(
    private readonly inner: Duplex,
    private readonly mapError: (error: unknown) => Error,
  ) {
    super({ readableHighWaterMark: FRAME_LENGTH_BYTES, writableHighWaterMark: FRAME_LENGTH_BYTES });
    inner.on('data', (chunk: Buffer) => {
      if (!this.discarding && !this.push(chunk)) inner.pause();
    });
    inner.once('end', () => {
      this.innerEnded = true;
      if (!this.discarding) this.push(null);
    });
    // Stays attached for good: the ESDK may emit errors after this stream is gone.
    inner.on('error', (error: unknown) => {
      this.innerFailed = true;
      if (!this.destroyed) this.destroy(this.mapError(error));
    });
    inner.once('close', () => {
      if (!this.innerEnded && !this.destroyed) this.destroy(this.mapError(new Error('the encryption stream closed before its end')));
    });
  }

  /** Fail the stream with `error` as is (used for checks made on the message header). */
  fail(error: Error): void {
    if (!this.destroyed) this.destroy(error);
  }

  override _read(): void {
    this.inner.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.inner.write(chunk)) callback();
    else this.inner.once('drain', () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.endInner();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.innerEnded && !this.innerFailed) {
      // Let the ESDK stream run out on what it already has (at most a few frames), discarding its output.
      this.discarding = true;
      this.endInner();
      this.inner.resume();
    }
    callback(error);
  }

  private endInner(): void {
    if (this.innerEndCalled) return;
    this.innerEndCalled = true;
    this.inner.end();
  }
}
