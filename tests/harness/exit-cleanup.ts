// Last-chance cleanup for services the harness started: when the test process exits (normally, by
// process.exit, or by SIGINT/SIGTERM/SIGHUP) every registered function runs once, synchronously.
// stop() functions unregister themselves, so this only matters for crashed or interrupted runs.

type SyncCleanup = () => void;

const cleanups = new Set<SyncCleanup>();
let installed = false;

function runAll(): void {
  for (const cleanup of [...cleanups]) {
    cleanups.delete(cleanup);
    try {
      cleanup();
    } catch {
      // Best effort: one failing cleanup must not keep the others from running.
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  runAll();
  // Keep the default "die on signal" behaviour unless somebody else (vitest) handles the signal.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, onSignal);
}

/**
 * Registers a synchronous cleanup (kill a process, remove a temp dir) to run when the process exits.
 * Returns a function that unregisters it; call that from a normal stop().
 */
export function registerExitCleanup(cleanup: SyncCleanup): () => void {
  install();
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
  };
}
