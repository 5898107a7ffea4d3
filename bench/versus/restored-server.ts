// The restored server in the vs-pgbackrest case, whichever tool restored it: started as the postgres OS user
// (pgBackRest leaves that to the DBA; `lifeboat restore --start` does it itself), watched until promoted, asked
// the question a DBA asks first, and stopped and removed after the run.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runAsPostgres } from '../../tests/harness/run-as-postgres.js';

export interface RestoredServer {
  bindir: string;
  dataDir: string;
  port: number;
  /** Folder of its Unix socket. */
  socketDir: string;
}

/** `psql -Atc sql` over the socket as the postgres OS user; undefined while it does not answer. */
async function psql(server: RestoredServer, sql: string): Promise<string | undefined> {
  try {
    const { stdout } = await runAsPostgres(join(server.bindir, 'psql'), ['-X', '-A', '-t', '-h', server.socketDir, '-p', String(server.port), '-d', 'postgres', '-c', sql], {
      timeoutMs: 600_000,
      env: { ...process.env, PGCONNECT_TIMEOUT: '5' },
    });
    return stdout.trim();
  } catch {
    return undefined;
  }
}

/**
 * `pg_ctl start` on a restored directory (port and socket given on the command line: pgBackRest keeps the
 * source's), then polls every 100 ms until recovery has ended and the server is out of recovery.
 */
export async function startUntilPromoted(server: RestoredServer, logFile: string, timeoutMs: number): Promise<void> {
  await runAsPostgres(join(server.bindir, 'pg_ctl'), ['-D', server.dataDir, '-l', logFile, '-W', '-o', `-p ${server.port} -k ${server.socketDir} -c listen_addresses=127.0.0.1`, 'start'], { timeoutMs: 60_000 });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await psql(server, 'select pg_is_in_recovery()')) === 'f') return;
    await sleep(100);
  }
  throw new Error(`the server restored into ${server.dataDir} was not promoted within ${timeoutMs / 1000} s; see ${logFile}`);
}

/** The first question after a restore; throws when the server does not answer it. */
export async function countAccounts(server: RestoredServer): Promise<number> {
  const answer = await psql(server, 'select count(*) from pgbench_accounts');
  if (answer === undefined || !/^\d+$/.test(answer)) throw new Error(`the server restored into ${server.dataDir} did not answer select count(*) from pgbench_accounts`);
  return Number(answer);
}

/** Stops the restored server (immediate: it is thrown away) and removes `folder`, which holds it. */
export async function discardRestored(server: Pick<RestoredServer, 'bindir' | 'dataDir'>, folder: string): Promise<void> {
  await runAsPostgres(join(server.bindir, 'pg_ctl'), ['-D', server.dataDir, '-m', 'immediate', '-w', 'stop'], { timeoutMs: 120_000 }).catch(() => undefined);
  await rm(folder, { recursive: true, force: true, maxRetries: 5 });
}
