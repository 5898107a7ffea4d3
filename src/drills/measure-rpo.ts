// RPO as a drill measures it: the reference instant (D, or the point-in-time target) minus the newest heartbeat
// the restored server holds, and the heartbeats written by then that it lacks. Without a heartbeat table, the
// newest replayed commit stands in (it overstates the loss when the source was idle); without either, RPO is
// reported as unmeasured rather than guessed.
import type { PgClient } from '../postgres/index.js';
import type { DrillResult } from './drill-result.js';

export interface RestoredHeartbeat {
  seq: number;
  writtenAt: Date;
}

export async function readRestoredHeartbeat(client: PgClient): Promise<RestoredHeartbeat | undefined> {
  const exists = (await client.query<{ ok: boolean }>(`select to_regclass('lifeboat.heartbeat') is not null as ok`)).rows[0]?.ok;
  if (!exists) return undefined;
  const row = (await client.query<{ seq: string; written_at: Date }>('select seq::text as seq, written_at from lifeboat.heartbeat order by seq desc limit 1')).rows[0];
  return row ? { seq: Number(row.seq), writtenAt: row.written_at } : undefined;
}

export interface RpoInputs {
  /** D, or the point-in-time target: what the restore should have reached. */
  referenceTime: Date;
  restored?: RestoredHeartbeat;
  /** The primary's newest heartbeat at the reference time. */
  primarySeq?: number;
  /** The newest commit replayed (restore's report), for the fallback. */
  lastCommitTime?: string;
}

export function measureRpo(inputs: RpoInputs): DrillResult['rpo'] {
  const seconds = (time: Date): number => Math.max(0, (inputs.referenceTime.getTime() - time.getTime()) / 1000);
  if (inputs.restored) {
    return {
      method: 'heartbeat',
      seconds: seconds(inputs.restored.writtenAt),
      newestRestored: inputs.restored.writtenAt.toISOString(),
      ...(inputs.primarySeq !== undefined ? { heartbeatsLost: Math.max(0, inputs.primarySeq - inputs.restored.seq) } : {}),
    };
  }
  if (inputs.lastCommitTime) {
    const time = new Date(inputs.lastCommitTime);
    if (!Number.isNaN(time.getTime())) return { method: 'commit-timestamp', seconds: seconds(time), newestRestored: time.toISOString() };
  }
  return { method: 'unmeasured' };
}
