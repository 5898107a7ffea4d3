// The daemon's WAL archiver child process: runs runWalArchive for one cluster until told to stop, until its parent
// goes away (even by SIGKILL: the IPC channel closes, the parent pid changes), or until the parent stops confirming
// the lease (a frozen daemon: stopping before its lease can pass to another daemon, whose archiver then terminates
// our walsender if the graceful stop still streams, and finds no receiver of ours restarting to take it back). Every
// stop is graceful: runWalArchive ships what it has, and never terminates another archiver's walsender.
// Exits 0 after a stop, else with the error's code (the parent restarts it with backoff).
import { setMaxListeners } from 'node:events';
import { runWalArchive } from '../backup/wal-archive/run-wal-archive.js';
import { loadConfig, selectCluster } from '../config/index.js';
import { ERROR_CODES, LifeboatError, isLifeboatError } from '../errors/index.js';
import { createLogger, redactSecrets } from '../log/index.js';
import { openRepository } from '../repository/open-repository.js';
import type { ArchiverParentMessage, ArchiverStartMessage } from './archiver-child-protocol.js';

/** How often the parent and the watchdog are checked: the watchdog fires a sixth of the lease before it expires. */
export const WATCHDOG_POLL_MS = 100;
/** A run that ignores its stop must not keep the slot's walsender forever. */
const STOP_DEADLINE_MS = 90_000;

export function runArchiverChildProcess(): void {
  const controller = new AbortController();
  setMaxListeners(1000, controller.signal);
  const parentPid = process.ppid;
  let lastKeepMs = Date.now();
  let watchdogMs = Number.POSITIVE_INFINITY;
  let started = false;
  let stopReason: ((reason: string) => void) | undefined;

  const stop = (reason: string): void => {
    if (controller.signal.aborted) return;
    stopReason?.(reason);
    controller.abort(new LifeboatError('aborted', reason));
    setTimeout(() => process.exit(ERROR_CODES.aborted), STOP_DEADLINE_MS).unref();
  };

  const start = async (message: ArchiverStartMessage): Promise<void> => {
    const config = loadConfig(message.configPath);
    const cluster = selectCluster(config, message.cluster);
    const log = createLogger({ level: process.env.LIFEBOAT_LOG_LEVEL ?? config.log.level }).child({ component: 'archiver', cluster: cluster.name, daemonId: message.daemonId });
    stopReason = (reason) => log.info({ reason }, 'stopping the WAL archiver');
    watchdogMs = message.watchdogMs;
    lastKeepMs = Date.now();
    log.info({ pid: process.pid }, 'WAL archiver process started');
    const repository = await openRepository(config, 'write', controller.signal);
    try {
      await runWalArchive({ config, cluster, storage: repository.storage, keys: repository.keys, log, signal: controller.signal });
    } finally {
      repository.close();
    }
    log.info('WAL archiver stopped');
  };

  const exitWith = (error: unknown): void => {
    const code = isLifeboatError(error) ? ERROR_CODES[error.code] : ERROR_CODES.internal;
    // An abort before the run began (stop during start-up) is a stop, not a failure.
    if (controller.signal.aborted && (!isLifeboatError(error) || error.code === 'aborted')) process.exit(0);
    process.stderr.write(`${JSON.stringify({ level: 'error', component: 'archiver', pid: process.pid, code: isLifeboatError(error) ? error.code : 'internal', msg: 'WAL archiver failed', err: redactSecrets(error instanceof Error ? error.message : String(error)) })}\n`);
    process.exit(code);
  };

  process.on('disconnect', () => stop('the daemon went away'));
  setInterval(() => {
    if (process.ppid !== parentPid) stop('the daemon went away');
    else if (started && Date.now() - lastKeepMs > watchdogMs) stop(`the daemon has not confirmed the archiver lease for ${Date.now() - lastKeepMs} ms`);
  }, WATCHDOG_POLL_MS).unref();
  process.on('SIGTERM', () => stop('the archiver process received SIGTERM'));
  process.on('SIGINT', () => stop('the archiver process received SIGINT'));
  process.on('message', (message: ArchiverParentMessage) => {
    if (message.type === 'keep') lastKeepMs = Date.now();
    else if (message.type === 'stop') stop(message.reason);
    else if (message.type === 'start' && !started) {
      started = true;
      start(message).then(() => process.exit(0), exitWith);
    }
  });
}
