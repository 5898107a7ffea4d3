// The timing that keeps a frozen daemon's archiver child from streaming beside the next holder: the child's
// watchdog fires before the lease can expire, yet never between two `keep`s of a live daemon, for every lease
// the config accepts (3-600 s), also while Redis is unreachable (each renewal then waits out its timeout).
import { describe, expect, it } from 'vitest';
import { WATCHDOG_POLL_MS } from '../../src/daemon/archiver-child.js';
import { archiverRedisTimeoutMs, archiverTickMs, archiverWatchdogMs } from '../../src/daemon/archiver-supervisor.js';

describe('the archiver child watchdog', () => {
  it.each([3, 5, 15, 60, 600])('with a %i s lease, fires after the longest gap between keeps and before the lease expires', (leaseSeconds) => {
    const leaseMs = leaseSeconds * 1000;
    const tickMs = archiverTickMs(leaseMs);
    const redisTimeoutMs = archiverRedisTimeoutMs(leaseMs);
    const watchdogMs = archiverWatchdogMs(leaseMs);
    // A tick's renewal is bounded, so a tick ends before the next one is due.
    expect(redisTimeoutMs).toBeLessThan(tickMs);
    // One keep at the start of a tick whose Redis answered at once, the next at the end of one that timed out.
    const longestKeepGapMs = tickMs + redisTimeoutMs;
    expect(watchdogMs - longestKeepGapMs).toBeGreaterThanOrEqual(leaseMs / 6);
    // The lease was renewed just before the last keep: the child has stopped well before it expires.
    expect(leaseMs - (watchdogMs + WATCHDOG_POLL_MS)).toBeGreaterThanOrEqual(leaseMs / 8);
  });
});
