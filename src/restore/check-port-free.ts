// `restore --start` runs the restored server on 127.0.0.1:PORT. A port already taken would only show up after
// the whole base backup was fetched, as a FATAL in the server log: check it before anything is written.
import { createServer } from 'node:net';
import { LifeboatError } from '../errors/index.js';

/** Throws `usage` when nothing can listen on 127.0.0.1:`port` right now. */
export async function checkPortFree(port: number): Promise<void> {
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new LifeboatError('usage', `--port ${port} is not a TCP port`, { hint: 'use a number from 1 to 65535' });
  }
  const server = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
  } catch (error) {
    throw new LifeboatError('usage', `port ${port} on 127.0.0.1 is in use, so the restored server could not start there`, {
      hint: 'choose a free port with --port (another PostgreSQL may be listening on it)',
      cause: error,
    });
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
