// An exclusive lock held by a live process and released by the kernel when it dies: a listening Unix socket in
// Linux's abstract namespace, named after the locked folder. Binding is atomic, and a killed holder leaves nothing
// stale behind (no pid file to trust, no pid reuse to guess about). Whoever finds the lock taken connects and is
// told the holder's pid, so refusals can name it. Abstract sockets are per network namespace: processes sharing a
// folder must share a network namespace (always true on one host without containers; with containers, share the
// host network or do not share the folder).
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { LifeboatError } from '../errors/index.js';

/** What the holder tells a process that finds the lock taken. */
export interface LockHolder {
  pid: number;
  /** What the holder is doing, e.g. "wal archive (cluster main)". */
  purpose: string;
  /** When it took the lock (ISO 8601). */
  since: string;
}

export interface ProcessLock {
  /** The folder and name this lock guards, for messages. */
  readonly description: string;
  /** Release the lock (idempotent). The kernel releases it anyway when the process exits. */
  release(): Promise<void>;
}

/** The abstract socket name for `folder` + `name`: a hash of the folder's real path, so aliases collide. */
function socketAddress(folder: string, name: string): string {
  let real: string;
  try {
    real = realpathSync(folder);
  } catch {
    real = folder;
  }
  const digest = createHash('sha256').update(`${real}\0${name}`).digest('hex').slice(0, 40);
  return `\0lifeboat-lock-${digest}`;
}

/** Ask the holder of `address` who it is; undefined when nobody answers (the lock is free). */
function askHolder(address: string, timeoutMs = 2_000): Promise<LockHolder | undefined> {
  return new Promise((resolve) => {
    const socket = createConnection({ path: address });
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ pid: 0, purpose: 'unknown (did not answer)', since: '' });
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(text) as LockHolder);
      } catch {
        resolve({ pid: 0, purpose: 'unknown', since: '' });
      }
    });
    socket.on('error', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}

/** Who holds the lock `name` on `folder`, or undefined when it is free. */
export async function probeProcessLock(folder: string, name: string): Promise<LockHolder | undefined> {
  return askHolder(socketAddress(folder, name));
}

function listen(server: Server, address: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      if (error.code === 'EADDRINUSE') resolve(false);
      else reject(error);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve(true);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ path: address, exclusive: true });
  });
}

/**
 * Take the lock `name` on `folder` for this process, or throw a `locked` error naming the holder's pid. The lock
 * does not keep the event loop alive, and child processes do not inherit it (Node opens sockets close-on-exec).
 */
export async function acquireProcessLock(folder: string, name: string, purpose: string): Promise<ProcessLock> {
  const address = socketAddress(folder, name);
  const description = `${name} lock on ${folder}`;
  const holder: LockHolder = { pid: process.pid, purpose, since: new Date().toISOString() };
  const server = createServer((socket) => {
    // The asker may be gone before the answer is written (it gave up while this process was stopped): EPIPE and
    // ECONNRESET are its business, never a reason for the lock holder to crash.
    socket.on('error', () => socket.destroy());
    socket.end(JSON.stringify(holder));
  });
  if (!(await listen(server, address))) {
    const other = await askHolder(address);
    throw new LifeboatError('locked', `another process holds the ${description}${other ? `: pid ${other.pid}, ${other.purpose}, since ${other.since}` : ''}`, {
      hint: other && other.pid > 0 ? `stop process ${other.pid} first, or give this one its own stateDir` : 'wait for the other process to finish, or give this one its own stateDir',
    });
  }
  server.unref();
  let released = false;
  return {
    description,
    release: async () => {
      if (released) return;
      released = true;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
