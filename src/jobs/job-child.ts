// The job child process: loads the config, runs the job kind's run* function, and reports one result over IPC. It
// watches its parent: when the daemon goes away, even by SIGKILL (the IPC channel closes; the parent pid changes),
// the run is aborted and cleans up as the CLI does on SIGINT, so no job outlives its daemon.
import { setMaxListeners } from 'node:events';
import { loadConfig, selectCluster } from '../config/index.js';
import { LifeboatError, isLifeboatError } from '../errors/index.js';
import { createLogger, redactSecrets } from '../log/index.js';
import type { ChildError, ParentMessage, ResultMessage, StartMessage } from './child-protocol.js';
import { jobKind } from './job-kinds.js';

/** After an abort, how long the run may take to clean up before the child exits anyway. */
const ABORT_DEADLINE_MS = 60_000;
/** How often the parent pid is checked (the IPC disconnect comes first; this is the safety net). */
const PARENT_POLL_MS = 1_000;

function toChildError(error: unknown, signal: AbortSignal): ChildError {
  // A run aborted mid-step may surface the runtime's AbortError: the job was aborted, and says why.
  if (signal.aborted && !isLifeboatError(error)) {
    const reason = signal.reason instanceof Error ? signal.reason.message : 'aborted';
    return { code: 'aborted', message: `the job was aborted: ${reason}` };
  }
  if (isLifeboatError(error)) return { code: error.code, message: redactSecrets(error.message), ...(error.hint ? { hint: redactSecrets(error.hint) } : {}) };
  return { code: 'internal', message: redactSecrets(error instanceof Error ? (error.stack ?? error.message) : String(error)) };
}

export function runJobChildProcess(): void {
  const controller = new AbortController();
  // Every stream of a backup listens on this one signal.
  setMaxListeners(1000, controller.signal);
  const parentPid = process.ppid;
  let reported = false;

  const abort = (reason: string): void => {
    if (controller.signal.aborted) return;
    controller.abort(new LifeboatError('aborted', reason));
    // A run that ignores its abort must not keep the process (and its connections) alive forever.
    setTimeout(() => process.exit(90), ABORT_DEADLINE_MS).unref();
  };

  const report = (message: ResultMessage): void => {
    reported = true;
    if (!process.connected) process.exit(message.ok ? 0 : 90);
    process.send!(message, () => process.exit(0));
  };

  const start = async (message: StartMessage): Promise<void> => {
    const config = loadConfig(message.configPath);
    const kind = jobKind(message.kind);
    const data = kind.dataSchema.parse(message.data);
    const cluster = selectCluster(config, data.cluster);
    const log = createLogger({ level: process.env.LIFEBOAT_LOG_LEVEL ?? config.log.level }).child({
      component: 'job',
      jobId: message.jobId,
      kind: kind.name,
      cluster: cluster.name,
      runKey: message.runKey,
      daemonId: message.daemonId,
    });
    log.info({ pid: process.pid }, 'job process started');
    const summary = await kind.run({
      config,
      cluster,
      data,
      log,
      signal: controller.signal,
      lifeboatVersion: message.lifeboatVersion,
      runKey: message.runKey,
      runNotBefore: new Date(message.runNotBefore),
    });
    log.info({ ...(summary.backupId ? { backupId: summary.backupId } : {}) }, summary.message);
    report({ type: 'result', ok: true, summary });
  };

  process.on('disconnect', () => {
    if (!reported) abort('the daemon went away');
  });
  setInterval(() => {
    if (process.ppid !== parentPid) abort('the daemon went away');
  }, PARENT_POLL_MS).unref();
  process.on('SIGTERM', () => abort('the job process received SIGTERM'));
  process.on('SIGINT', () => abort('the job process received SIGINT'));
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'abort') abort(message.reason);
    else if (message.type === 'start') start(message).catch((error: unknown) => report({ type: 'result', ok: false, error: toChildError(error, controller.signal) }));
  });
}
