// Plans a restore from the repository's contents alone: which full backup, which timeline path, which WAL
// segments (and partial) up to the target, how many bytes, what is missing. Pure: no I/O, so `--dry-run` and
// the real restore share one plan, and every refusal is decided here with its reason and fix.
import { LifeboatError } from '../errors/index.js';
import {
  formatLsn,
  parseLsn,
  timelinePath,
  toTimelineId,
  type Lsn,
  type TimelineId,
  type TimelineSwitch,
  type WalSegmentName,
} from '../postgres/index.js';
import type { BackupManifest, FullBackupManifest, IncrementManifest } from '../repository/backup-manifest.js';
import type { ClusterCatalog } from '../repository/describe-cluster.js';
import { isOnPath, newestCompleteEnd, segmentOnPath, segmentsAlongPath, type TimelineStep } from '../repository/find-wal-gaps.js';
import type { ArchivedWal } from '../repository/list-archived-wal.js';
import type { RestorePointRecord } from '../repository/restore-points.js';
import type { RestoreTarget } from './restore-target.js';

export interface PlannedWal {
  segment: WalSegmentName;
  key: string;
  /** `partial`: only the newest partial of the last segment exists; served under the plain segment name. */
  source: 'segment' | 'partial';
  storedSizeBytes: number;
  /** Content checksum to verify (complete segments). */
  sha256?: string;
}

export interface RestorePlan {
  cluster: string;
  backup: FullBackupManifest;
  target: RestoreTarget;
  /** Timeline recovery ends on (recovery_target_timeline). */
  timeline: TimelineId;
  /** The named point's LSN, for --to-name. */
  namedLsn?: Lsn;
  wal: PlannedWal[];
  /** Needed segments that are not in the repository. */
  missing: string[];
  baseStoredBytes: number;
  walStoredBytes: number;
  /** Bytes the restored data directory will hold (the backup's tar size plus the WAL replayed into pg_wal). */
  restoredBytes: number;
  /** The recoverable window, as `backups list` shows it. */
  window: NonNullable<ClusterCatalog['window']>;
}

export interface PlanInputs {
  cluster: string;
  manifests: readonly BackupManifest[];
  wal: ArchivedWal;
  histories: ReadonlyMap<TimelineId, TimelineSwitch[]>;
  restorePoints: readonly RestorePointRecord[];
  catalog: ClusterCatalog;
  segmentSizeBytes: number;
  target: RestoreTarget;
  /** recovery_target_timeline: a number, or `latest` (PostgreSQL's default). */
  timeline: 'latest' | number;
  /** The cluster's recorded system identifier: the chosen backup must carry it. */
  systemIdentifier?: string;
}

function ms(iso: string | undefined): number | undefined {
  return iso === undefined ? undefined : Date.parse(iso);
}

function describeWindow(window: RestorePlan['window']): string {
  return `${window.earliest.time ?? '(time unknown)'} (${window.earliest.lsn}) to ${window.latest.time ?? '(time unknown)'} (${window.latest.lsn})`;
}

/** Can `backup` reach `target`? Its consistent point must lie before the target. */
function backupReaches(backup: FullBackupManifest, target: RestoreTarget, namedLsn: Lsn | undefined): boolean {
  switch (target.kind) {
    case 'latest':
    case 'immediate':
      return true;
    case 'lsn':
      return target.inclusive ? parseLsn(backup.stopLsn) <= target.lsn : parseLsn(backup.stopLsn) < target.lsn;
    case 'name':
      return namedLsn !== undefined && parseLsn(backup.stopLsn) <= namedLsn;
    case 'time': {
      // Commit times in manifests are truncated to the millisecond: compare conservatively.
      const consistent = ms(backup.consistentXactTime) ?? Date.parse(backup.stopTime);
      const targetMs = Number(target.micros / 1000n);
      return consistent < targetMs || (target.inclusive && consistent === targetMs && backup.consistentXactTime !== undefined);
    }
  }
}

function highestTimeline(inputs: PlanInputs): TimelineId {
  const timelines = [...inputs.histories.keys(), ...inputs.manifests.map((m) => m.timeline), ...[...inputs.wal.segments.keys()].map((s) => Number.parseInt(s.slice(0, 8), 16))];
  return toTimelineId(Math.max(1, ...timelines));
}

/**
 * The end of everything archived along `path` from `from`: the newest complete segment replay would read there,
 * or the newest partial after it. Gaps before it are the plan's `missing`.
 */
function archivedEnd(wal: ArchivedWal, path: readonly TimelineStep[], from: Lsn, segmentSizeBytes: number): Lsn {
  let end = newestCompleteEnd(wal, path, from, segmentSizeBytes);
  for (const [segment, partials] of wal.partials) {
    const newest = partials.at(-1);
    if (newest !== undefined && newest.endLsn > end && isOnPath(path, segment, segmentSizeBytes)) end = newest.endLsn;
  }
  return end;
}

/** Where WAL needed for the target ends (exclusive), on the path's last timeline; undefined = everything archived. */
function walEnd(inputs: PlanInputs, backup: FullBackupManifest, namedLsn: Lsn | undefined): Lsn | undefined {
  const { target } = inputs;
  if (target.kind === 'immediate') return parseLsn(backup.stopLsn);
  if (target.kind === 'lsn') return (target.lsn + 1n) as Lsn;
  if (target.kind === 'name') return namedLsn;
  if (target.kind === 'time') {
    // The first increment after the backup whose WAL holds a commit after the target bounds what replay reads.
    const targetMs = Number(target.micros / 1000n);
    const after = inputs.manifests
      .filter((m): m is IncrementManifest => m.type === 'incremental' && m.fullBackupId === backup.backupId)
      .find((m) => (ms(m.lastXactTime) ?? -Infinity) > targetMs);
    return after ? parseLsn(after.stopLsn) : undefined;
  }
  return undefined;
}

function checkWindow(inputs: PlanInputs, window: RestorePlan['window'], namedLsn: Lsn | undefined): void {
  const { target } = inputs;
  if (target.kind === 'time') {
    const targetMs = Number(target.micros / 1000n);
    const earliest = ms(window.earliest.time);
    const latest = ms(window.latest.time);
    if (earliest !== undefined && targetMs < earliest) {
      throw new LifeboatError('usage', `${target.text} is before the earliest recoverable point; the window is ${describeWindow(window)}`, {
        hint: 'choose a time inside the window (older backups have expired or never existed)',
      });
    }
    if (latest === undefined || targetMs >= latest) {
      throw new LifeboatError('usage', `${target.text} is not before the last archived commit; the window is ${describeWindow(window)}`, {
        hint: 'PostgreSQL stops at the first commit after the target, and none is archived yet: use --latest for the newest state',
      });
    }
  }
  if (target.kind === 'lsn') {
    if (target.lsn < parseLsn(window.earliest.lsn)) {
      throw new LifeboatError('usage', `LSN ${formatLsn(target.lsn)} is before the earliest recoverable point; the window is ${describeWindow(window)}`, { hint: 'choose an LSN inside the window' });
    }
    if (target.lsn > parseLsn(window.latest.lsn)) {
      throw new LifeboatError('usage', `LSN ${formatLsn(target.lsn)} is after the latest archived WAL; the window is ${describeWindow(window)}`, { hint: 'choose an LSN inside the window, or use --latest' });
    }
  }
  if (target.kind === 'name' && namedLsn !== undefined && namedLsn > parseLsn(window.latest.lsn)) {
    throw new LifeboatError('usage', `restore point "${target.name}" (${formatLsn(namedLsn)}) is not archived yet; the window is ${describeWindow(window)}`, {
      hint: 'wait for the archiver to ship it (at most the partial upload interval), then try again',
    });
  }
}

export function planRestore(inputs: PlanInputs): RestorePlan {
  const { target, segmentSizeBytes } = inputs;
  const fulls = inputs.manifests.filter((m): m is FullBackupManifest => m.type === 'full');
  const window = inputs.catalog.window;
  if (!window || fulls.length === 0) {
    throw new LifeboatError('objectNotFound', `cluster "${inputs.cluster}" has no full backup in the repository`, { hint: 'check the repository and cluster name (`lifeboat backups list`)' });
  }
  let namedLsn: Lsn | undefined;
  let namedTimeline: TimelineId | undefined;
  if (target.kind === 'name') {
    const point =
      inputs.restorePoints.find((p) => p.name === target.name) ??
      inputs.manifests.flatMap((m) => (m.type === 'incremental' ? m.restorePoints.map((p) => ({ ...p, timeline: m.timeline })) : [])).find((p) => p.name === target.name);
    if (!point) {
      const known = [...new Set([...inputs.restorePoints.map((p) => p.name), ...inputs.manifests.flatMap((m) => (m.type === 'incremental' ? m.restorePoints.map((p) => p.name) : []))])];
      throw new LifeboatError('usage', `no restore point named "${target.name}" is recorded for cluster "${inputs.cluster}"`, {
        hint: known.length > 0 ? `known restore points: ${known.join(', ')}` : 'create named points with `lifeboat restore-point NAME` before you need them',
      });
    }
    namedLsn = parseLsn(point.lsn);
    namedTimeline = toTimelineId(point.timeline);
  }
  checkWindow(inputs, window, namedLsn);

  const wanted = inputs.timeline === 'latest' ? (namedTimeline ?? highestTimeline(inputs)) : toTimelineId(inputs.timeline);
  const candidates = [...fulls].reverse().filter((backup) => backupReaches(backup, target, namedLsn));
  const backup = candidates.find((b) => timelinePath(toTimelineId(b.timeline), wanted, inputs.histories) !== undefined);
  if (!backup) {
    throw new LifeboatError('usage', candidates.length === 0 ? `no full backup is consistent before the target; the window is ${describeWindow(window)}` : `timeline ${wanted} does not descend from any backup's timeline`, {
      hint: candidates.length === 0 ? 'choose a later target' : 'pick the timeline with --timeline N (`lifeboat backups list` shows the timelines)',
    });
  }
  if (inputs.systemIdentifier !== undefined && backup.systemIdentifier !== inputs.systemIdentifier) {
    throw new LifeboatError('objectCorrupted', `backup ${backup.backupId} is of database system ${backup.systemIdentifier}, but cluster "${inputs.cluster}" in the repository is system ${inputs.systemIdentifier}`, {
      hint: 'two clusters were stored under one name; restore with --cluster naming the right one, or move the foreign backup away',
    });
  }
  const path = timelinePath(toTimelineId(backup.timeline), wanted, inputs.histories)!;
  const end = walEnd(inputs, backup, namedLsn);

  const wal: PlannedWal[] = [];
  const missing: string[] = [];
  const from = parseLsn(backup.startLsn);
  let to = end ?? archivedEnd(inputs.wal, path, from, segmentSizeBytes);
  if (to <= from) to = (from + 1n) as Lsn;
  const lastSegment = segmentOnPath(path, (to - 1n) as Lsn, segmentSizeBytes);
  for (const segment of segmentsAlongPath(path, from, to, segmentSizeBytes)) {
    const complete = inputs.wal.segments.get(segment);
    const partial = inputs.wal.partials.get(segment)?.at(-1);
    if (complete) wal.push({ segment, key: complete.key, source: 'segment', storedSizeBytes: complete.storedSizeBytes, sha256: complete.sha256 });
    else if (partial && segment === lastSegment) wal.push({ segment, key: partial.key, source: 'partial', storedSizeBytes: partial.storedSizeBytes });
    else missing.push(segment);
  }
  const baseStoredBytes = backup.parts.reduce((sum, part) => sum + part.storedSizeBytes, 0);
  const walStoredBytes = wal.reduce((sum, w) => sum + w.storedSizeBytes, 0);
  return {
    cluster: inputs.cluster,
    backup,
    target,
    timeline: path.at(-1)!.timeline,
    ...(namedLsn !== undefined ? { namedLsn } : {}),
    wal,
    missing,
    baseStoredBytes,
    walStoredBytes,
    restoredBytes: backup.tarSizeBytes + wal.length * segmentSizeBytes,
    window,
  };
}
