// RPO as a drill measures it: the reference instant (D, or the point-in-time target) minus the newest heartbeat
// the restored server holds, and the heartbeats the primary wrote by then that it lacks. Without a heartbeat
// table, the newest commit the restored server holds stands in (it overstates the loss when the source was idle);
// without either, RPO is reported as unmeasured rather than guessed.
import type { Heartbeat } from './heartbeat/heartbeat.js';
import type { CommitTimeReading } from './heartbeat/read-newest-commit-time.js';
import type { DrillResult } from './drill-result.js';

export interface RpoInputs {
  /** D, or the point-in-time target: what the restore should have reached. */
  referenceTime: Date;
  /** The newest heartbeat in the restored server. */
  restored?: Heartbeat;
  /** Heartbeats the primary wrote after `restored` and by the reference time (undefined: primary unreachable). */
  heartbeatsLost?: number;
  /** The newest commit the restored server holds, for the fallback. */
  commitTime?: CommitTimeReading;
}

export function measureRpo(inputs: RpoInputs): DrillResult['rpo'] {
  const seconds = (time: Date): number => Math.max(0, (inputs.referenceTime.getTime() - time.getTime()) / 1000);
  if (inputs.restored) {
    return {
      method: 'heartbeat',
      seconds: seconds(inputs.restored.writtenAt),
      newestRestored: inputs.restored.writtenAt.toISOString(),
      ...(inputs.heartbeatsLost !== undefined ? { heartbeatsLost: inputs.heartbeatsLost } : {}),
    };
  }
  if (inputs.commitTime?.method === 'commit-timestamp') {
    return { method: 'commit-timestamp', seconds: seconds(inputs.commitTime.newestCommitTime), newestRestored: inputs.commitTime.newestCommitTime.toISOString() };
  }
  return { method: 'unmeasured' };
}
