// Writes the restored files back to disk while the base backup is still being fetched, instead of all at once
// after it: the restore must make every file durable before it puts pg_control in place (write-recovery-config),
// and with the default dirty-page limits (10% of RAM before background writeback) a 1.6 GB base stayed in the page
// cache until that final sync, which then took 0.85 s on the critical path. Fetching is CPU-bound and the disk idle
// meanwhile, so flushing as it goes costs the fetch little and leaves the final sync almost nothing to do.
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Pause between two flushes of the file system holding `dir`. */
const FLUSH_INTERVAL_MS = 250;

/** Flushes the file system holding `dir` (`sync -f`, syncfs(2)) over and over until the returned stop() is called. */
export function startBackgroundFlush(dir: string): { stop(): Promise<void> } {
  const stopped = new AbortController();
  const loop = (async () => {
    while (!stopped.signal.aborted) {
      // A failed flush is harmless here: the final, checked sync in write-recovery-config decides.
      await run('sync', ['-f', dir]).catch(() => undefined);
      await sleep(FLUSH_INTERVAL_MS, undefined, { signal: stopped.signal }).catch(() => undefined);
    }
  })();
  return {
    async stop() {
      stopped.abort();
      await loop;
    },
  };
}
