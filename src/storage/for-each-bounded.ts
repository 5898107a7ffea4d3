// Runs an async step over many items with a fixed number in flight, so a loop over thousands of objects
// never opens thousands of files or requests at once. Used by the drivers' delete and cleanup loops.

/**
 * Calls `step` for every item with at most `concurrency` calls pending. Stops starting new steps after the
 * first failure or once `signal` fires, waits for the running ones, then rejects with the first error.
 */
export async function forEachBounded<T>(
  items: Iterable<T>,
  concurrency: number,
  step: (item: T) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const iterator = items[Symbol.iterator]();
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    for (;;) {
      if (failure !== undefined) return;
      if (signal?.aborted) {
        failure ??= { error: signal.reason };
        return;
      }
      const next = iterator.next();
      if (next.done === true) return;
      try {
        await step(next.value);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  if (failure !== undefined) throw failure.error;
}
