// The local-binaries path of startPostgres(): initdb as the postgres OS user into a fresh temp dir, harness
// config, pg_ctl start on a free port, then the `lifeboat` role. Everything (data, socket, log) lives in
// the temp dir; stop(), the exit handler and the watchdog all remove it, so crashed runs leave nothing.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { appendFile, chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerExitCleanup } from './exit-cleanup.js';
import { freePort } from './free-port.js';
import { BASE_SETTINGS, formatPgHba, formatPostgresConf, lifeboatRoleSql } from './postgres-config.js';
import { formatPostgresUri, queryPostgres, type PostgresRow } from './postgres-query.js';
import type { PostgresCredentials, PostgresServer, StartPostgresOptions } from './postgres.js';
import { isProcessAlive, killProcessTreeSync, waitForProcessesGone } from './process-tree.js';
import { postgresOsUser, runAsPostgres } from './run-as-postgres.js';
import { tailLines } from './run-process.js';
import { shellQuote, startWatchdog } from './watchdog.js';

const randomPassword = (): string => randomBytes(18).toString('base64url');

function readPostmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** SIGKILLs the postmaster and all its backends; stops the postmaster first so it cannot fork meanwhile. */
function killClusterSync(dataDir: string): number[] {
  const pid = readPostmasterPid(dataDir);
  if (pid === undefined || !isProcessAlive(pid)) return [];
  try {
    process.kill(pid, 'SIGSTOP');
  } catch {
    return [];
  }
  return killProcessTreeSync(pid, 'SIGKILL');
}

/**
 * Removes the lock files of a postmaster that died but is still a zombie: our pid 1 reaps orphans late (or
 * never, in some containers), and PostgreSQL would take the zombie's pid for a running server. After a real
 * crash (reboot, OOM kill under a reaping init) that pid would simply be gone, which this reproduces.
 */
async function removeZombieLockFiles(dataDir: string, socketDir: string, port: number): Promise<void> {
  const pid = readPostmasterPid(dataDir);
  if (pid === undefined || isProcessAlive(pid) || !existsSync(`/proc/${pid}`)) return;
  await rm(join(dataDir, 'postmaster.pid'), { force: true });
  await rm(join(socketDir, `.s.PGSQL.${port}.lock`), { force: true });
}

/** Kills the cluster and removes `tempDir` if this process dies without calling stop(). */
function armCrashCleanup(tempDir: string, dataDir: string): () => void {
  const pidFile = shellQuote(join(dataDir, 'postmaster.pid'));
  const cancelWatchdog = startWatchdog(
    `pid=$(head -n 1 ${pidFile} 2>/dev/null); if [ -n "$pid" ]; then kill -QUIT "$pid"; sleep 2; kill -9 "$pid"; fi; ` +
      `rm -rf ${shellQuote(tempDir)}`,
  );
  const unregister = registerExitCleanup(() => {
    cancelWatchdog();
    killClusterSync(dataDir);
    rmSync(tempDir, { recursive: true, force: true, maxRetries: 5 });
  });
  return () => {
    cancelWatchdog();
    unregister();
  };
}

async function writeOwnedByPostgres(path: string, content: string, mode = 0o600): Promise<void> {
  await writeFile(path, content, { mode });
  const user = postgresOsUser();
  if (user !== undefined) await chown(path, user.uid, user.gid);
}

/** Starts a cluster from the binaries in `bindir`. */
export async function startLocalPostgres(bindir: string, options: StartPostgresOptions): Promise<PostgresServer> {
  const tempDir = await mkdtemp(join(tmpdir(), 'lifeboat-pg-'));
  const dataDir = join(tempDir, 'data');
  const logFile = join(tempDir, 'postgres.log');
  const disarm = armCrashCleanup(tempDir, dataDir);
  const superuser: PostgresCredentials = { user: 'postgres', password: randomPassword() };
  const lifeboat: PostgresCredentials = { user: 'lifeboat', password: randomPassword() };
  let port = 0;

  const pgCtl = (args: string[]) => runAsPostgres(join(bindir, 'pg_ctl'), ['-D', dataDir, ...args], { cwd: tempDir });
  const logTail = async (): Promise<string> => tailLines(await readFile(logFile, 'utf8').catch(() => '(no server log)'), 30);
  const startServer = async (action: 'start' | 'restart' = 'start'): Promise<void> => {
    await removeZombieLockFiles(dataDir, tempDir, port);
    try {
      await pgCtl(['-l', logFile, '-m', 'fast', '-w', '-t', '60', action]);
    } catch (error) {
      throw new Error(`postgres did not start on port ${port}; server log:\n${await logTail()}`, { cause: error });
    }
  };
  const query = <R extends PostgresRow = PostgresRow>(sql: string, params?: readonly unknown[]): Promise<R[]> =>
    queryPostgres<R>({ host: '127.0.0.1', port, database: 'postgres', ...superuser }, sql, params);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const pid = readPostmasterPid(dataDir);
      if (pid !== undefined && isProcessAlive(pid)) {
        await pgCtl(['-m', 'fast', '-w', '-t', '60', 'stop']).catch(() => waitForProcessesGone(killClusterSync(dataDir)));
      }
      disarm();
      await rm(tempDir, { recursive: true, force: true, maxRetries: 5 });
    })();
    return stopping;
  };

  try {
    const user = postgresOsUser();
    if (user !== undefined) await chown(tempDir, user.uid, user.gid);
    const pwFile = join(tempDir, 'superuser.pw');
    await writeOwnedByPostgres(pwFile, `${superuser.password}\n`);
    const initdbArgs = ['-D', dataDir, '-U', 'postgres', `--pwfile=${pwFile}`, '--auth-local=trust', '--auth-host=scram-sha-256'];
    // --no-sync only skips initdb's own final fsync (as PostgreSQL's own test suites do); the server keeps fsync=on.
    await runAsPostgres(join(bindir, 'initdb'), [...initdbArgs, '--encoding=UTF8', '--locale=C', '--no-sync'], { cwd: tempDir });
    await rm(pwFile);
    await writeOwnedByPostgres(join(dataDir, 'pg_hba.conf'), formatPgHba());
    await appendFile(join(dataDir, 'postgresql.conf'), "\ninclude = 'lifeboat-harness.conf'\n");

    // The port is fixed for the server's life (restarts reuse it); retry only if another process grabbed it first.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const settings = { ...BASE_SETTINGS, port: String(port), unix_socket_directories: tempDir, ...options.settings };
      await writeOwnedByPostgres(join(dataDir, 'lifeboat-harness.conf'), formatPostgresConf(settings));
      try {
        await startServer();
        break;
      } catch (error) {
        if (attempt >= 3 || !/could not bind|address already in use/i.test(await logTail())) throw error;
      }
    }

    const [row] = await query<{ server_version_num: string }>('SHOW server_version_num');
    const version = Math.floor(Number(row?.server_version_num) / 10_000);
    for (const sql of lifeboatRoleSql(lifeboat.password, version)) await query(sql);

    const credentialsOf = (role: 'superuser' | 'lifeboat'): PostgresCredentials => (role === 'superuser' ? superuser : lifeboat);
    return {
      runtime: 'local',
      host: '127.0.0.1',
      port,
      dataDir,
      bindir,
      socketDir: tempDir,
      logFile,
      version,
      superuser,
      lifeboat,
      connectionUri: (role, database = 'postgres') => formatPostgresUri('127.0.0.1', port, credentialsOf(role), database),
      query,
      start: async () => {
        if (stopping !== undefined) throw new Error('this postgres test server was stopped; start a new one');
        await startServer();
      },
      restart: () => startServer('restart'),
      stop,
      kill9: async () => {
        await waitForProcessesGone(killClusterSync(dataDir));
      },
    };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}
