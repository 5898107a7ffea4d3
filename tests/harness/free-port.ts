// Finds a TCP port on 127.0.0.1 that is free right now, for services the tests start themselves.
// The port is only reserved until we close our probe socket, so starters retry on "address in use".
import { createServer } from 'node:net';

/** Binds 127.0.0.1:0, reads the port the kernel chose, closes the socket and returns the port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not read the port of a probe socket'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}
