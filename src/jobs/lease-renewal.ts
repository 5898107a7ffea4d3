// Keeps a job's locks leased while it runs: one timer renews every lease a third of its length. When a renewal
// finds a lock no longer ours, or Redis has not confirmed a renewal for almost a whole lease, the job is told to
// abort: another holder may take the lock from then on, and two holders must never work at once.
import type { Redis } from 'ioredis';
import type { Logger } from '../log/index.js';
import { renewJobLocks } from './cluster-lock.js';

export interface LeaseRenewal {
  stop(): void;
}

export function startLeaseRenewal(redis: Redis, keys: readonly string[], value: string, leaseMs: number, log: Logger, onLost: (reason: string) => void): LeaseRenewal {
  const intervalMs = Math.max(250, Math.floor(leaseMs / 3));
  let lastRenewedMs = Date.now();
  let inFlight = false;
  let lost = false;
  const lose = (reason: string): void => {
    if (lost) return;
    lost = true;
    clearInterval(timer);
    log.error({ reason }, 'job lock lost; aborting the job');
    onLost(reason);
  };
  const timer = setInterval(() => {
    // Give up one interval before expiry: the abort and the child's clean-up must start while the lock is ours.
    if (Date.now() - lastRenewedMs > leaseMs - intervalMs) {
      lose(`the lock lease could not be renewed for ${Date.now() - lastRenewedMs} ms`);
      return;
    }
    if (inFlight) return;
    inFlight = true;
    renewJobLocks(redis, keys, value, leaseMs)
      .then((ours) => {
        if (ours) lastRenewedMs = Date.now();
        else lose('the lock expired or is held by another job');
      })
      .catch((error: unknown) => log.warn({ err: error }, 'lock renewal failed; retrying'))
      .finally(() => (inFlight = false));
  }, intervalMs);
  return {
    stop: () => clearInterval(timer),
  };
}
