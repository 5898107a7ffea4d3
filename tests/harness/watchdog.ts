// A tiny detached shell that outlives a test process killed with SIGKILL (where no 'exit' handler runs):
// it polls the parent pid once a second and, once the parent is gone, runs a cleanup script (kill the
// service, remove its temp dir). stop() cancels it after a normal shutdown.
import { spawn } from 'node:child_process';

/** Quotes `value` for a POSIX shell. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** Starts a watchdog running `cleanupScript` (POSIX sh) when this process dies; returns its canceller. */
export function startWatchdog(cleanupScript: string): () => void {
  const loop = 'while kill -0 "$0" 2>/dev/null; do sleep 1; done; eval "$1"';
  const child = spawn('sh', ['-c', loop, String(process.pid), cleanupScript], { detached: true, stdio: 'ignore' });
  child.on('error', () => undefined);
  child.unref();
  return () => {
    try {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
}
