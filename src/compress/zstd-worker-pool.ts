// A small pool of worker threads running zstd (and the SHA-256 of what is compressed), shared by every compression
// stream in the process: native zstd calls and hashing are synchronous, so they must never run on the event loop,
// and one shared pool bounds the CPU that concurrent backups take. Workers hold the event loop open only while they
// have work; the pool closes when its last lease ends.
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { InlineZstdThread, type ZstdThread } from './zstd-inline-thread.js';
import type { DoneReply, WorkerReply, WorkerRequest } from './zstd-worker-protocol.js';
import { ZSTD_WORKER_SOURCE } from './zstd-worker-source.js';

/** Why a pool task did not complete. */
export class ZstdWorkerError extends Error {
  /** `failed`: zstd rejected the data; `crashed`: the worker thread died; `cancelled`: the caller gave up. */
  readonly kind: 'failed' | 'crashed' | 'cancelled';
  constructor(kind: ZstdWorkerError['kind'], message: string) {
    super(message);
    this.name = 'ZstdWorkerError';
    this.kind = kind;
  }
}

/** Pool sizing; see {@link configureZstdPool}. */
export interface ZstdPoolOptions {
  /** Worker threads at most. Default: available CPUs, capped at 4. */
  maxWorkers?: number;
  /** How long an unused pool keeps its threads for the next stream (WAL segments arrive in bursts). Default 2000 ms. */
  lingerMs?: number;
  /** Run zstd on the calling thread instead of worker threads (see zstd-inline-thread.ts). Default false. */
  inline?: boolean;
}

interface Task {
  request: WorkerRequest;
  owner: object;
  resolve: (reply: DoneReply) => void;
  reject: (error: Error) => void;
}

interface PoolWorker {
  thread: ZstdThread;
  inFlight: Map<number, Task>;
  closing: boolean;
  lastError?: Error;
}

/** Requests queued on one worker at once: the second one starts without waiting for a round trip. */
const TASKS_PER_WORKER = 2;

const bindingPath = createRequire(import.meta.url).resolve('zstd-napi/binding');

/** The pool itself. Streams use it through {@link acquireZstdPool}, never directly. */
export class ZstdWorkerPool {
  readonly maxWorkers: number;
  /** Streams currently holding a lease (see acquireZstdPool). */
  leases = 0;
  private readonly workers = new Set<PoolWorker>();
  private readonly queue: Task[] = [];
  private readonly sessions = new Map<number, PoolWorker | 'lost'>();
  private nextId = 1;
  private closed = false;

  constructor(
    maxWorkers: number,
    private readonly inline = false,
  ) {
    // Inline, one "worker" is the calling thread: a second would only queue behind it.
    this.maxWorkers = inline ? 1 : maxWorkers;
  }

  /** Live worker threads (for tests and metrics). */
  get threadCount(): number {
    return this.workers.size;
  }

  /**
   * Compress one block on any worker into one frame at the start of `output` (see zstdCompressBound); the caller
   * must not touch `input` or `output` until the promise settles.
   */
  compress(owner: object, input: SharedArrayBuffer, length: number, output: SharedArrayBuffer, level: number): Promise<DoneReply> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new ZstdWorkerError('cancelled', 'the zstd worker pool was shut down'));
        return;
      }
      const request: WorkerRequest = { type: 'compress', id: this.nextId++, input, length, output, level };
      this.queue.push({ request, owner, resolve, reject });
      this.dispatch();
    });
  }

  /** A new decoder session id; all its requests go to one worker, which keeps the decoder state. */
  openSession(): number {
    const session = this.nextId++;
    this.sessions.set(session, this.workerForSession() ?? 'lost');
    return session;
  }

  /**
   * Feed `input[0, length)` to the session's decoder or, without input, collect more of its output, decoded into
   * `output` (at most its size); the caller must not touch `input` or `output` until the promise settles.
   */
  decompress(owner: object, session: number, input: SharedArrayBuffer | undefined, length: number, output: SharedArrayBuffer, hash = false): Promise<DoneReply> {
    return new Promise((resolve, reject) => {
      const worker = this.sessions.get(session);
      if (worker === undefined || worker === 'lost' || worker.closing) {
        reject(new ZstdWorkerError('crashed', 'the zstd worker holding this decoder stopped'));
        return;
      }
      const request: WorkerRequest = { type: 'decompress', id: this.nextId++, session, input, length, output, hash };
      // Sent at once, not queued: a session's requests must reach its worker, which handles them in order.
      this.send(worker, { request, owner, resolve, reject });
    });
  }

  /**
   * A new SHA-256 session: its blocks are hashed in order on one worker, next to the compression jobs of every
   * worker. Not a thread of its own: each thread costs about 10 MB, and on few cores it would only compete with the
   * compressing threads; the dispatcher counts hash jobs when it looks for the least busy worker.
   */
  openHashSession(): number {
    return this.openSession();
  }

  /** Add `input[0, length)` to the session's SHA-256; the caller must not touch `input` until the promise settles. */
  hash(owner: object, session: number, input: SharedArrayBuffer, length: number): Promise<DoneReply> {
    return this.sendToSession(owner, session, { type: 'hash', id: this.nextId++, session, input, length });
  }

  /** The session's SHA-256 in lowercase hex; ends the session. */
  async digest(owner: object, session: number): Promise<string> {
    const reply = await this.sendToSession(owner, session, { type: 'digest', id: this.nextId++, session });
    this.sessions.delete(session);
    if (reply.digest === undefined) throw new ZstdWorkerError('failed', 'the hash worker replied without a digest');
    return reply.digest;
  }

  /** Free the session's decoder or hash state in its worker. */
  releaseSession(session: number): void {
    const worker = this.sessions.get(session);
    this.sessions.delete(session);
    if (worker !== undefined && worker !== 'lost' && !worker.closing) {
      worker.thread.postMessage({ type: 'release', id: this.nextId++, session } satisfies WorkerRequest);
    }
  }

  private sendToSession(owner: object, session: number, request: WorkerRequest): Promise<DoneReply> {
    return new Promise((resolve, reject) => {
      const worker = this.sessions.get(session);
      if (worker === undefined || worker === 'lost' || worker.closing) {
        reject(new ZstdWorkerError('crashed', 'the worker holding this session stopped'));
        return;
      }
      this.send(worker, { request, owner, resolve, reject });
    });
  }

  /** Drop the owner's queued requests (its stream was destroyed); requests already running finish unobserved. */
  cancel(owner: object): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const task = this.queue[i];
      if (task?.owner !== owner) continue;
      this.queue.splice(i, 1);
      task.reject(new ZstdWorkerError('cancelled', 'the compression stream was closed'));
    }
  }

  /** Stop every thread; pending requests fail. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.splice(0)) task.reject(new ZstdWorkerError('cancelled', 'the zstd worker pool was shut down'));
    await Promise.all([...this.workers].map((worker) => this.stopWorker(worker)));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const worker = this.pickWorker();
      if (worker === undefined) return;
      const task = this.queue.shift();
      if (task !== undefined) this.send(worker, task);
    }
  }

  /** For a queued block: an idle worker, else a new one while under the limit, else the least busy with room. */
  private pickWorker(): PoolWorker | undefined {
    if (this.closed) return undefined;
    const best = this.leastBusyWorker();
    if (best !== undefined && best.inFlight.size === 0) return best;
    if (this.workers.size < this.maxWorkers) return this.spawn();
    return best !== undefined && best.inFlight.size < TASKS_PER_WORKER ? best : undefined;
  }

  /** For a new decoder: the least busy worker, or a new one when all are busy and the limit allows. */
  private workerForSession(): PoolWorker | undefined {
    if (this.closed) return undefined;
    const best = this.leastBusyWorker();
    if ((best === undefined || best.inFlight.size > 0) && this.workers.size < this.maxWorkers) return this.spawn();
    return best;
  }

  private leastBusyWorker(): PoolWorker | undefined {
    let best: PoolWorker | undefined;
    for (const worker of this.workers) {
      if (!worker.closing && (best === undefined || worker.inFlight.size < best.inFlight.size)) best = worker;
    }
    return best;
  }

  private send(worker: PoolWorker, task: Task): void {
    worker.inFlight.set(task.request.id, task);
    // Only a worker with work keeps the process alive; an idle pool must never block exit.
    if (worker.inFlight.size === 1) worker.thread.ref();
    worker.thread.postMessage(task.request);
  }

  private spawn(): PoolWorker {
    const thread: ZstdThread = this.inline ? new InlineZstdThread(bindingPath) : new Worker(ZSTD_WORKER_SOURCE, { eval: true, workerData: { bindingPath }, name: 'lifeboat-zstd' });
    const worker: PoolWorker = { thread, inFlight: new Map(), closing: false };
    thread.unref();
    thread.on('message', (reply: WorkerReply) => this.onReply(worker, reply));
    thread.on('error', (error) => {
      worker.lastError = error;
    });
    thread.on('exit', (code) => this.onExit(worker, code));
    this.workers.add(worker);
    return worker;
  }

  private onReply(worker: PoolWorker, reply: WorkerReply): void {
    const task = worker.inFlight.get(reply.id);
    if (task === undefined) return;
    worker.inFlight.delete(reply.id);
    if (worker.inFlight.size === 0) worker.thread.unref();
    if (reply.type === 'done') task.resolve(reply);
    else task.reject(new ZstdWorkerError('failed', reply.message));
    this.dispatch();
  }

  private onExit(worker: PoolWorker, code: number): void {
    this.workers.delete(worker);
    const reason = worker.closing
      ? new ZstdWorkerError('cancelled', 'the zstd worker pool was shut down')
      : new ZstdWorkerError('crashed', `zstd worker thread stopped unexpectedly (exit code ${code}${worker.lastError ? `: ${worker.lastError.message}` : ''})`);
    for (const task of worker.inFlight.values()) task.reject(reason);
    worker.inFlight.clear();
    // A decoder's or hash's state died with its thread: its stream cannot continue on another worker.
    for (const [session, owner] of this.sessions) if (owner === worker) this.sessions.set(session, 'lost');
    this.dispatch();
  }

  private async stopWorker(worker: PoolWorker): Promise<void> {
    worker.closing = true;
    await worker.thread.terminate();
  }

  /** Test hook: kill every thread as if it had crashed, failing whatever it was doing. */
  async crashForTests(): Promise<void> {
    await Promise.all([...this.workers].map((worker) => worker.thread.terminate()));
  }
}

let options: Required<ZstdPoolOptions> = { maxWorkers: Math.max(1, Math.min(4, availableParallelism())), lingerMs: 2000, inline: false };
let shared: ZstdWorkerPool | undefined;
let lingerTimer: NodeJS.Timeout | undefined;

/** Size the shared pool (call at startup, from configuration); applies to the next pool created. */
export function configureZstdPool(next: ZstdPoolOptions): void {
  options = { ...options, ...next };
}

/** A claim on the shared pool; call `release()` when the stream is done (further calls are ignored). */
export interface ZstdPoolLease {
  readonly pool: ZstdWorkerPool;
  release(): void;
}

/** Take a lease on the shared pool, creating it if needed. */
export function acquireZstdPool(): ZstdPoolLease {
  if (lingerTimer !== undefined) clearTimeout(lingerTimer);
  lingerTimer = undefined;
  shared ??= new ZstdWorkerPool(options.maxWorkers, options.inline);
  const pool = shared;
  pool.leases++;
  let released = false;
  return {
    pool,
    release: () => {
      if (released) return;
      released = true;
      pool.leases--;
      if (pool.leases > 0 || shared !== pool) return;
      lingerTimer = setTimeout(() => {
        lingerTimer = undefined;
        if (pool.leases === 0 && shared === pool) void shutdownZstdPool();
      }, options.lingerMs);
      lingerTimer.unref();
    },
  };
}

/** Stop the shared pool's threads now (daemon shutdown, tests). Streams still using it fail. */
export async function shutdownZstdPool(): Promise<void> {
  if (lingerTimer !== undefined) clearTimeout(lingerTimer);
  lingerTimer = undefined;
  const pool = shared;
  shared = undefined;
  await pool?.close();
}

/** Live zstd worker threads in the shared pool (0 when there is none), for tests and metrics. */
export function zstdThreadCount(): number {
  return shared?.threadCount ?? 0;
}

/** The shared pool if one exists (tests use it to simulate crashes). */
export function currentZstdPool(): ZstdWorkerPool | undefined {
  return shared;
}
