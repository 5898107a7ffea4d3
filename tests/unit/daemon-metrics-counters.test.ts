// The daemon's job counters and the process-job hook that feeds them: a job's outcome is counted by kind and
// outcome, a failure by its error code (taken from what process-job throws, `internal` when it names none), and
// the exposition stays valid for `promtool check metrics` when the catalog cannot be read (catalog_up 0, no
// backup series invented, no archiver lease holder without Redis), and the WAL bytes read count each WAL byte once.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type RuntimeConfig } from '../../src/config/index.js';
import { processJob, type ProcessJobDeps } from '../../src/jobs/process-job.js';
import { createLogger } from '../../src/log/index.js';
import { createDaemonMetrics, type JobOutcomeEvent } from '../../src/metrics/daemon-metrics.js';
import { walBytesCovered } from '../../src/metrics/read-cluster-facts.js';
import { lsnFromBigInt, type WalSegmentName } from '../../src/postgres/index.js';
import type { ArchivedPartial, ArchivedSegment } from '../../src/repository/list-archived-wal.js';

const log = createLogger({ level: 'error' });
let dir: string;
let config: RuntimeConfig;
/** Never reached in these tests: every call fails, as an unreachable Redis would. */
const noRedis = new Proxy({}, { get: () => () => Promise.reject(new Error('no redis in this test')) }) as unknown as Redis;

beforeAll(() => {
  const ensured = spawnSync('bash', [resolve(import.meta.dirname, '..', '..', 'scripts', 'ensure-promtool.sh')], { encoding: 'utf8' });
  if (ensured.status !== 0) throw new Error(`promtool is missing and cannot be installed:\n${ensured.stderr}`);
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-metrics-'));
  const path = join(dir, 'lifeboat.yaml');
  // No key file: the catalog cannot be read.
  writeFileSync(path, 'clusters:\n  - name: main\n    postgres: { host: 127.0.0.1, user: lifeboat }\nrepository: { driver: fs, path: ./repo }\nencryption: { provider: local, keyFile: ./missing.key }\nstateDir: ./state\n');
  config = loadConfig(path);
}, 300_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fakeJob(data: Record<string, unknown>): Job {
  return { id: '1', queueName: 'q', data, attemptsMade: 0, opts: { attempts: 4 }, timestamp: Date.now() } as unknown as Job;
}

describe('daemon metrics', () => {
  it('process-job reports every outcome to its hook, a failure with its code', async () => {
    const events: JobOutcomeEvent[] = [];
    const deps = { config, redis: noRedis, prefix: 'x', daemonId: 'd1', lifeboatVersion: 't', env: {}, log, shutdownSignal: new AbortController().signal, onOutcome: (e: JobOutcomeEvent) => events.push(e) } satisfies ProcessJobDeps;
    await expect(processJob(fakeJob({ cluster: 'main', kind: 'nosuch' }), deps)).rejects.toThrow(/unknown kind/);
    await expect(processJob(fakeJob({ cluster: 'other', kind: 'full' }), deps)).rejects.toThrow(/not in this daemon's config/);
    // Valid data: the hook sees the Redis failure of the first read (not a LifeboatError: internal, failed).
    await expect(processJob(fakeJob({ cluster: 'main', kind: 'full' }), deps)).rejects.toThrow(/no redis/);
    expect(events).toEqual([
      { cluster: 'main', kind: 'nosuch', outcome: 'failed', errorCode: 'internal' },
      { cluster: 'other', kind: 'full', outcome: 'failed', errorCode: 'internal' },
      { cluster: 'main', kind: 'full', outcome: 'retrying', errorCode: 'internal' },
    ]);
  });

  it('counts runs by outcome and failures by code; a failed catalog read is reported, not invented', async () => {
    const metrics = createDaemonMetrics({ config, redis: noRedis, prefix: 'x', daemonId: 'd1', log });
    try {
      metrics.recordJobOutcome({ cluster: 'main', kind: 'full', outcome: 'done' });
      metrics.recordJobOutcome({ cluster: 'main', kind: 'full', outcome: 'retrying', errorCode: 'storageUnavailable' });
      metrics.recordJobOutcome({ cluster: 'main', kind: 'full', outcome: 'failed', errorCode: 'storageUnavailable' });
      metrics.recordJobOutcome({ cluster: 'main', kind: 'verify', outcome: 'failed', errorCode: 'objectCorrupted' });
      const text = await metrics.render();
      expect(text).toContain('lifeboat_job_runs_total{cluster="main",kind="full",outcome="done"} 1');
      expect(text).toContain('lifeboat_job_runs_total{cluster="main",kind="full",outcome="failed"} 1');
      expect(text).toContain('lifeboat_job_runs_total{cluster="main",kind="incr",outcome="failed"} 0');
      expect(text).toContain('lifeboat_job_failures_total{cluster="main",kind="full",code="storageUnavailable"} 2');
      expect(text).toContain('lifeboat_job_failures_total{cluster="main",kind="verify",code="objectCorrupted"} 1');
      expect(text).toContain('lifeboat_catalog_up{cluster="main"} 0');
      expect(text).not.toMatch(/^lifeboat_last_success_timestamp_seconds\{/m);
      expect(text).not.toMatch(/^lifeboat_read_bytes\{/m);
      expect(text).not.toMatch(/^lifeboat_wal_archiver_lease_holder\{/m);
      const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect(check.status, `${check.stdout}${check.stderr}`).toBe(0);
    } finally {
      metrics.close();
    }
  });
});

describe('WAL bytes read', () => {
  const MiB = 1024 * 1024;
  const segment = (name: string): [WalSegmentName, ArchivedSegment] => [name as WalSegmentName, { segment: name as WalSegmentName, key: name, sha256: '0', storedSizeBytes: 1 }];
  const partial = (name: string, endLsn: bigint): ArchivedPartial => ({ segment: name as WalSegmentName, key: `${name}.${endLsn}`, endLsn: lsnFromBigInt(endLsn), storedSizeBytes: 1 });

  it('counts a segment once, and of partial-only segments the newest partial up to its end', () => {
    // Segment 2 (at 32 MiB with 16 MiB segments) is complete and had partials before; segment 3 only partials.
    const segments = new Map([segment('000000010000000000000001'), segment('000000010000000000000002')]);
    const partials = new Map<WalSegmentName, ArchivedPartial[]>([
      ['000000010000000000000002' as WalSegmentName, [partial('000000010000000000000002', 40n * BigInt(MiB))]],
      ['000000010000000000000003' as WalSegmentName, [partial('000000010000000000000003', 48n * BigInt(MiB) + 100n), partial('000000010000000000000003', 48n * BigInt(MiB) + 5000n)]],
    ]);
    expect(walBytesCovered({ segments, partials }, 16 * MiB)).toBe(2 * 16 * MiB + 5000);
    // With 64 MiB segments, segment 3 starts at 192 MiB.
    const big = new Map<WalSegmentName, ArchivedPartial[]>([['000000010000000000000003' as WalSegmentName, [partial('000000010000000000000003', 192n * BigInt(MiB) + 7n)]]]);
    expect(walBytesCovered({ segments: new Map(), partials: big }, 64 * MiB)).toBe(7);
  });
});
