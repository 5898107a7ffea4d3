// Realistic restore drill results for the report, history and CLI tests: what the drill engine produces for a
// `latest` drill of a pgbench database (two targets, amcheck and table checks per database, isolation, an
// assertion, extensions), with helpers to make one fail, skip or not run at all.
import { decideDrillOutcome, type DrillCheckResult, type DrillResult } from '../../src/drills/drill-result.js';

export interface DrillResultOptions {
  cluster?: string;
  /** Start of the drill (its id is made from it); D is 2 s earlier, the end 47.3 s later. */
  startedAt?: Date;
  scenario?: string;
  /** The RTO target in seconds (default 14 400: passes). */
  rtoTargetSeconds?: number;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function stamp(at: Date): string {
  return at.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** A passing `latest` drill of a pgbench database: RPO 4.21 s (1 heartbeat lost), RTO 41.85 s in four phases. */
export function buildDrillResult(options: DrillResultOptions = {}): DrillResult {
  const cluster = options.cluster ?? 'main';
  const startedAt = options.startedAt ?? new Date('2026-11-29T13:45:12.000Z');
  const started = startedAt.getTime();
  const rtoTargetSeconds = options.rtoTargetSeconds ?? 14_400;
  const rtoSeconds = 41.85;
  const checks: DrillCheckResult[] = [
    { name: 'amcheck:postgres', outcome: 'passed', durationMs: 3120, message: 'pg_amcheck: 12 relations (heap and btree), no corruption' },
    { name: 'tables:postgres', outcome: 'passed', durationMs: 210, message: '4 of 4 tables present; row counts within 10 % of the source statistics at D' },
    { name: 'isolation', outcome: 'passed', durationMs: 15, message: 'no primary_conninfo, archive_mode off, max_logical_replication_workers = 0, no subscription enabled' },
    { name: 'assertion:accounts-not-empty', outcome: 'passed', durationMs: 8, message: 'select count(*) > 0 from pgbench_accounts: true' },
    { name: 'extensions', outcome: 'skipped', durationMs: 0, message: 'the source uses no extension library' },
  ];
  const result: DrillResult = {
    formatVersion: 1,
    drillId: `drill-${cluster}-${stamp(startedAt)}`,
    cluster,
    scenario: { name: options.scenario ?? 'latest', file: 'drills/latest.yaml', description: 'restore the newest point from the primary repository', settings: { target: 'latest', amcheck: { heapallindexed: false } } },
    outcome: 'passed',
    disasterTime: iso(started - 2000),
    startedTime: iso(started),
    finishedTime: iso(started + 47_300),
    host: 'drill-host-1',
    source: 'primary',
    backup: { backupId: '20261129T120000Z-F', kind: 'full', stopTime: '2026-11-29T12:00:41.000Z' },
    wal: { segments: 12, firstSegment: '000000010000000000000004', lastSegment: '00000001000000000000000F', storedBytes: 18_234_112 },
    restoreTarget: { kind: 'latest' },
    rpo: { seconds: 4.21, heartbeatsLost: 1, method: 'heartbeat', newestRestored: iso(started - 6210) },
    rto: { seconds: rtoSeconds, phases: { plan: 0.62, fetchBase: 9.4, replay: 30.1, promote: 1.73 } },
    targets: [
      { name: 'rpo', outcome: 'passed', measuredSeconds: 4.21, targetSeconds: 3600, message: 'within the target' },
      {
        name: 'rto',
        outcome: rtoSeconds <= rtoTargetSeconds ? 'passed' : 'failed',
        measuredSeconds: rtoSeconds,
        targetSeconds: rtoTargetSeconds,
        message: rtoSeconds <= rtoTargetSeconds ? 'within the target' : `exceeds the target by ${(rtoSeconds - rtoTargetSeconds).toFixed(2)} s`,
      },
    ],
    checks,
    versions: { lifeboat: '0.1.0', postgresSource: '16.4', postgresScratch: '16.4' },
  };
  return { ...result, outcome: decideDrillOutcome(result) };
}

/** A drill that could not run: the repository was unreachable, so nothing was measured. */
export function buildFailedToRunDrillResult(options: DrillResultOptions = {}): DrillResult {
  const base = buildDrillResult(options);
  const { backup: _backup, wal: _wal, ...rest } = base;
  return {
    ...rest,
    outcome: 'failed',
    finishedTime: iso(Date.parse(base.startedTime) + 1200),
    rpo: { method: 'heartbeat' },
    rto: { phases: { plan: 1.2 } },
    targets: [],
    checks: [],
    error: { code: 'storageUnavailable', exitCode: 70, message: 'listing "clusters/main/backups/" in s3://drills/repo/ failed: connect ECONNREFUSED 127.0.0.1:9', hint: 'check that the repository is reachable, then retry' },
  };
}
