// What a restore drill measured and concluded: the one shape every report (JUnit, JSON, Markdown), the drill
// history stored in the repository, `drill history` and the /metrics gauges are made from. Parsed with zod when
// read back from the repository, so a history written by an older Lifeboat is either understood or refused.
import { z } from 'zod';

/** Outcome of one target or check. `not-applicable`: the scenario cannot run here (e.g. no replica region yet). */
export const DRILL_OUTCOMES = ['passed', 'failed', 'skipped', 'not-applicable'] as const;
export type DrillOutcome = (typeof DRILL_OUTCOMES)[number];

/** The phases RTO is split into; they add up to the total (D until promoted and answering). */
export const RTO_PHASES = ['plan', 'fetchBase', 'replay', 'promote'] as const;
export type RtoPhase = (typeof RTO_PHASES)[number];

export const drillTargetResultSchema = z.strictObject({
  /** `rpo` or `rto`. */
  name: z.enum(['rpo', 'rto']),
  outcome: z.enum(DRILL_OUTCOMES),
  /** The measured value in seconds; absent when it could not be measured (then `outcome` says why, in `message`). */
  measuredSeconds: z.number().nonnegative().optional(),
  targetSeconds: z.number().positive(),
  message: z.string(),
});
export type DrillTargetResult = z.infer<typeof drillTargetResultSchema>;

export const drillCheckResultSchema = z.strictObject({
  /** Stable id, e.g. `amcheck:appdb`, `tables:appdb`, `isolation`, `assertion:orders-not-empty`, `extensions`. */
  name: z.string().min(1),
  outcome: z.enum(DRILL_OUTCOMES),
  durationMs: z.number().nonnegative(),
  /** One line with the measured value or the finding (what failed and where). */
  message: z.string(),
  /** Longer output (pg_amcheck's report, the missing tables), shown in JUnit's failure body and the Markdown. */
  details: z.string().optional(),
});
export type DrillCheckResult = z.infer<typeof drillCheckResultSchema>;

export const drillResultSchema = z.strictObject({
  formatVersion: z.literal(1),
  /** `drill-<cluster>-<UTC timestamp>`: also the key of the stored result. */
  drillId: z.string().min(1),
  cluster: z.string().min(1),
  /** The scenario as run (its file name and resolved settings). */
  scenario: z.strictObject({ name: z.string(), file: z.string().optional(), description: z.string().optional(), settings: z.record(z.string(), z.unknown()) }),
  /** Overall: `passed` when every target and check passed (skipped and not-applicable ones do not fail a drill). */
  outcome: z.enum(DRILL_OUTCOMES),
  /** The simulated disaster's instant D, on the primary's clock (ISO 8601 with zone). */
  disasterTime: z.string(),
  startedTime: z.string(),
  finishedTime: z.string(),
  host: z.string(),
  /** Where the restore read from: `primary` or a replica region's name. */
  source: z.string(),
  backup: z.strictObject({ backupId: z.string(), kind: z.string(), stopTime: z.string().optional() }).optional(),
  wal: z.strictObject({ segments: z.number().int().nonnegative(), firstSegment: z.string().optional(), lastSegment: z.string().optional(), storedBytes: z.number().nonnegative() }).optional(),
  /** The restore target: `latest`, or a time / LSN / name and its value. */
  restoreTarget: z.strictObject({ kind: z.string(), value: z.string().optional() }),
  rpo: z.strictObject({
    /** Seconds of data lost: D (or the PITR target) minus the newest heartbeat (or commit) the restored server holds. */
    seconds: z.number().nonnegative().optional(),
    /** Heartbeats written at or before D (or the target) that the restored server lacks. */
    heartbeatsLost: z.number().int().nonnegative().optional(),
    /** `heartbeat`, `commit-timestamp`, or `unmeasured` (no heartbeat table and track_commit_timestamp off). */
    method: z.enum(['heartbeat', 'commit-timestamp', 'unmeasured']),
    newestRestored: z.string().optional(),
  }),
  rto: z.strictObject({
    seconds: z.number().nonnegative().optional(),
    phases: z.partialRecord(z.enum(RTO_PHASES), z.number().nonnegative()),
  }),
  targets: z.array(drillTargetResultSchema),
  checks: z.array(drillCheckResultSchema),
  /** The scratch server the drill restored into (removed after the drill unless kept with --keep). */
  scratch: z.strictObject({ dataDir: z.string(), socketDir: z.string(), port: z.number().int(), kept: z.boolean() }).optional(),
  versions: z.strictObject({ lifeboat: z.string(), postgresSource: z.string().optional(), postgresScratch: z.string().optional() }),
  /** When the drill itself could not run: the error's code and message (then `outcome` is `failed`). */
  error: z.strictObject({ code: z.string(), exitCode: z.number().int(), message: z.string(), hint: z.string().optional() }).optional(),
});
export type DrillResult = z.infer<typeof drillResultSchema>;

/** The overall outcome from the targets and checks: any failure fails the drill. */
export function decideDrillOutcome(result: Pick<DrillResult, 'targets' | 'checks' | 'error'>): DrillOutcome {
  if (result.error) return 'failed';
  const all = [...result.targets, ...result.checks];
  if (all.some((item) => item.outcome === 'failed')) return 'failed';
  if (all.length > 0 && all.every((item) => item.outcome === 'not-applicable')) return 'not-applicable';
  return 'passed';
}
