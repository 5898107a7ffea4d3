// The scratch instance a drill restores into: a temp data directory, a free port on 127.0.0.1, its own socket
// folder and pg_hba.conf, SSL and archiving off, no logical replication workers (so a restored subscription never
// connects to its publisher or advances its slot). Settings go last into postgresql.auto.conf, after the restore's
// own, so they win; the source's configuration is otherwise kept, as a real recovery would run it.
import { appendFileSync, writeFileSync, chownSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { quoteConf } from '../restore/write-recovery-config.js';
import type { OsOwner } from '../restore/target-dir.js';

/** Settings that keep a drill's server to itself. Each is checked again on the running server (check-isolation). */
export const SCRATCH_SETTINGS: Readonly<Record<string, string>> = {
  listen_addresses: '127.0.0.1',
  ssl: 'off',
  archive_mode: 'off',
  primary_conninfo: '',
  max_logical_replication_workers: '0',
  // Into the server log the restore reads back (pg_ctl -l), not a collector's folder the source configured.
  logging_collector: 'off',
};

/** A TCP port free on 127.0.0.1 right now (the kernel's pick). */
export async function pickFreePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP port was assigned');
  return address.port;
}

/**
 * Make the restored data directory a scratch server: only local connections over the restore's private socket
 * folder (0700, owned by the server's OS user), trusted, so the drill can act as the bootstrap superuser without
 * knowing a password; TCP on 127.0.0.1 with the source's passwords.
 */
export function configureScratchServer(dataDir: string, owner: OsOwner): void {
  const hba = join(dataDir, 'pg_hba.conf');
  writeFileSync(hba, '# written by lifeboat drill: a scratch server only the drill connects to\nlocal all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n', { mode: 0o600 });
  chownSync(hba, owner.uid, owner.gid);
  const lines = Object.entries({ ...SCRATCH_SETTINGS, hba_file: hba }).map(([name, value]) => `${name} = ${quoteConf(value)}`);
  appendFileSync(join(dataDir, 'postgresql.auto.conf'), `# lifeboat drill: a scratch server, isolated from the source\n${lines.join('\n')}\n`);
}
