// Runs `lifeboat daemon` processes for integration tests: each with its own config file (the fixture's, plus
// Redis, schedules, placement and its own stateDir, as a separate host would have), its JSON log lines collected
// and parsed, and a guarantee that it (and its job children) die with the test process.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { openRepository, type Repository } from '../../src/repository/open-repository.js';
import { createLifeboatFixture, type LifeboatFixture } from './lifeboat-fixture.js';
import { startPostgres, type PostgresServer } from './postgres.js';
import { startRedis, type RedisServer } from './redis.js';
import { ensureCliBuilt } from './wal-archiver-runner.js';
import { registerExitCleanup } from './exit-cleanup.js';
import { killProcessTreeSync, listProcessTree } from './process-tree.js';
import { waitFor } from './wait-for.js';

const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

export type LogLine = Record<string, unknown> & { msg?: string; level?: string };

export interface DaemonProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly configPath: string;
  /** Every JSON log line so far, parsed. */
  readonly lines: LogLine[];
  /** Raw stderr + stdout (for secret checks and failure messages). */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal) and signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; atMs: number }>;
  waitForLine(what: string, predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Pids of the daemon's descendants now (its job processes and their programs). */
  descendants(): number[];
}

/** Writes `<fixture>/<name>.yaml`: the fixture config with `extra` merged at the top level and per cluster. */
export function writeDaemonConfig(fixture: LifeboatFixture, name: string, extra: { top?: Record<string, unknown>; cluster?: Record<string, unknown> }): string {
  const raw = JSON.parse(readFileSync(fixture.configPath, 'utf8')) as { clusters: Record<string, unknown>[] } & Record<string, unknown>;
  const config = { ...raw, stateDir: `./state-${name}`, ...extra.top, clusters: raw.clusters.map((cluster) => ({ ...cluster, ...extra.cluster })) };
  const path = join(fixture.dir, `${name}.yaml`);
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  return path;
}

export function startDaemon(fixture: LifeboatFixture, name: string, configPath: string, env: NodeJS.ProcessEnv = {}): DaemonProcess {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'lifeboat.js'), '--config', configPath, 'daemon'], {
    cwd: fixture.dir,
    env: { ...fixture.env, LIFEBOAT_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid!;
  const unregister = registerExitCleanup(() => void killProcessTreeSync(pid, 'SIGKILL'));
  const lines: LogLine[] = [];
  let raw = '';
  let partial = '';
  const onData = (chunk: string): void => {
    raw += chunk;
    partial += chunk;
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const part of parts) {
      try {
        lines.push(JSON.parse(part) as LogLine);
      } catch {
        // Not a log line (command output); kept in raw.
      }
    }
  };
  child.stdout!.setEncoding('utf8').on('data', onData);
  child.stderr!.setEncoding('utf8').on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; atMs: number }>((resolveExit) =>
    child.once('exit', (code, signal) => {
      unregister();
      resolveExit({ code, signal, atMs: Date.now() });
    }),
  );
  return {
    name,
    child,
    pid,
    configPath,
    lines,
    output: () => raw,
    exited,
    waitForLine: (what, predicate, timeoutMs = 60_000) =>
      waitFor(`${name}: ${what}\n${raw.slice(-3000)}`, () => lines.find(predicate), { timeoutMs, intervalMs: 100 }),
    descendants: () => listProcessTree(pid).filter((p) => p !== pid),
  };
}

/** What every daemon test file starts: PostgreSQL with a fixture, its repository, a private Redis and a client. */
export interface DaemonTestServices {
  pg: PostgresServer;
  redisServer: RedisServer;
  fixture: LifeboatFixture;
  /** The fixture's repository, open for writing. */
  repository: Repository;
  /** A client of `redisServer` (maxRetriesPerRequest: null, as BullMQ wants). */
  redis: Redis;
  /** Close the client and the repository, stop both servers, remove the fixture. */
  stop(): Promise<void>;
}

/** Start the services a daemon test file needs (dist/ built first); whatever started is stopped if a step fails. */
export async function startDaemonTestServices(): Promise<DaemonTestServices> {
  ensureCliBuilt();
  const [pg, redisServer] = await Promise.all([startPostgres(), startRedis()]);
  let fixture: LifeboatFixture | undefined;
  let repository: Repository | undefined;
  let redis: Redis | undefined;
  const stop = async (): Promise<void> => {
    redis?.disconnect();
    repository?.close();
    await Promise.all([pg.stop(), redisServer.stop()]);
    fixture?.cleanup();
  };
  try {
    fixture = createLifeboatFixture(pg);
    repository = await openRepository(fixture.config, 'write');
    redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
    return { pg, redisServer, fixture, repository, redis, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
