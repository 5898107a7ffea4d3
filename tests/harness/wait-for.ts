// Polls a condition until it holds or a deadline passes: tests wait for what they need to see, never for a
// fixed time. On timeout the error names what was awaited and the last value (or error) the probe saw.

export interface WaitForOptions {
  /** Give up after this many milliseconds. Default 30 000. */
  timeoutMs?: number;
  /** Pause between probes, in milliseconds. Default 200. */
  intervalMs?: number;
}

/**
 * Calls `probe` until it returns something other than `undefined` or `false`, and returns that. A probe that
 * throws counts as not yet (a server restarting); the last error is reported if the deadline passes.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, options: WaitForOptions = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${options.timeoutMs ?? 30_000} ms waiting for ${what} (last: ${detail})`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 200));
  }
}
