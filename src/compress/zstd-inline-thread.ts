// The zstd worker's code run on the calling thread, behind the same message interface as a worker thread, for a
// process whose memory matters more than its event loop's latency: the daemon's WAL archiver, which ships a few MB/s
// for months, and a restore, which runs beside the PostgreSQL it restores (memory-profile.ts). A worker thread is a
// V8 isolate of its own (10-15 MB of RSS, and its own heap, which rarely collects); inline, each block's zstd call
// and hash run synchronously between other events (a 2 MiB block at level 3: a few ms). Messages are delivered on
// later turns of the event loop, never re-entrantly, as with a real worker.
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { WorkerReply, WorkerRequest } from './zstd-worker-protocol.js';
import { ZSTD_WORKER_SOURCE } from './zstd-worker-source.js';

/** What the pool uses of a worker thread. */
export interface ZstdThread {
  postMessage(request: WorkerRequest): void;
  ref(): void;
  unref(): void;
  terminate(): Promise<number>;
  on(event: 'message', listener: (reply: WorkerReply) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  on(event: 'exit', listener: (code: number) => void): this;
}

const nodeRequire = createRequire(import.meta.url);

export class InlineZstdThread extends EventEmitter implements ZstdThread {
  /** The worker code's end of the channel: it listens for requests here and posts its replies. */
  private readonly port = new EventEmitter() as EventEmitter & { postMessage(reply: WorkerReply): void };
  private terminated = false;

  constructor(bindingPath: string) {
    super();
    this.port.postMessage = (reply) => {
      setImmediate(() => {
        if (!this.terminated) this.emit('message', reply);
      });
    };
    const workerThreads = { parentPort: this.port, workerData: { bindingPath } };
    const requireForWorker = (id: string): unknown => (id === 'node:worker_threads' ? workerThreads : nodeRequire(id));
    // The same source text a worker thread evaluates, so both run exactly one implementation.
    new Function('require', ZSTD_WORKER_SOURCE)(requireForWorker);
  }

  postMessage(request: WorkerRequest): void {
    setImmediate(() => {
      if (!this.terminated) this.port.emit('message', request);
    });
  }

  ref(): void {
    // Nothing to hold: pending work is a setImmediate, which keeps the event loop alive by itself.
  }

  unref(): void {
    // As ref().
  }

  terminate(): Promise<number> {
    if (!this.terminated) {
      this.terminated = true;
      setImmediate(() => this.emit('exit', 0));
    }
    return Promise.resolve(0);
  }
}
