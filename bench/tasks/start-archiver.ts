// Starts runWalArchive in the benchmark child and resolves once it has completed its first cycle (receiver up,
// state reported), keeping every state with the time it arrived.
import type { Logger } from 'pino';
import { runWalArchive } from '../../src/backup/wal-archive/run-wal-archive.js';
import type { WalArchiveState } from '../../src/backup/wal-archive/archiver-state.js';
import type { RuntimeConfig } from '../../src/config/index.js';
import type { KeyProvider } from '../../src/crypto/index.js';
import type { Storage } from '../../src/storage/index.js';

export interface TimedState {
  atMs: number;
  state: WalArchiveState;
}

export interface RunningArchiver {
  states: TimedState[];
  /** Resolves with the next state reported after now. */
  nextState(): Promise<TimedState>;
  stop(): Promise<void>;
}

export async function startArchiver(config: RuntimeConfig, storage: Storage, keys: KeyProvider, log: Logger, pollMs?: number): Promise<RunningArchiver> {
  const controller = new AbortController();
  const states: TimedState[] = [];
  let waiters: ((state: TimedState) => void)[] = [];
  const running = runWalArchive({
    config,
    cluster: config.clusters[0]!,
    storage,
    keys,
    log,
    signal: controller.signal,
    ...(pollMs === undefined ? {} : { pollMs }),
    onState: (state) => {
      const timed = { atMs: Date.now(), state };
      states.push(timed);
      const woken = waiters;
      waiters = [];
      for (const wake of woken) wake(timed);
    },
  });
  const failed = running.then(() => {
    throw new Error('the WAL archiver stopped on its own');
  });
  const nextState = (): Promise<TimedState> => Promise.race([new Promise<TimedState>((resolve) => waiters.push(resolve)), failed]);
  await nextState();
  return {
    states,
    nextState,
    async stop() {
      controller.abort();
      await running;
    },
  };
}
