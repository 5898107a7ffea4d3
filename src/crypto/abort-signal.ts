// How the crypto streams honour AbortSignals: a wait that gives up on abort while the shared work it waits for
// runs on (other objects still need that data key), and a stream destroyed on abort without leaking listeners
// on long-lived signals (one backup signal serves thousands of objects).
import type { Duplex } from 'node:stream';

/** Settles with `promise`, or rejects with `abortError()` as soon as `signal` aborts (the promise runs on). */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined, abortError: () => Error): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(abortError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortError());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Destroys `stream` with `abortError()` when `signal` aborts; the listener goes when the stream closes. */
export function destroyOnAbort(stream: Duplex, signal: AbortSignal | undefined, abortError: () => Error): void {
  if (signal === undefined) return;
  if (signal.aborted) {
    stream.destroy(abortError());
    return;
  }
  const onAbort = (): void => {
    stream.destroy(abortError());
  };
  signal.addEventListener('abort', onAbort, { once: true });
  stream.once('close', () => signal.removeEventListener('abort', onAbort));
}
