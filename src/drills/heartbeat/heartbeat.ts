// One row of the drill heartbeat as Lifeboat reads it back, from the primary or from a restored copy.
import { parseLsn, type Lsn } from '../../postgres/index.js';

export interface Heartbeat {
  /** The row's identity value: one more per write; gaps after a failed insert or a crash (up to 32 values). */
  seq: number;
  /** When it was written, on the primary's clock (clock_timestamp() at the insert; read back to the millisecond). */
  writtenAt: Date;
  /** pg_current_wal_lsn() at the insert: the row's own WAL record follows it. */
  lsn: Lsn;
}

/** The columns every query selects, as text where JavaScript cannot hold the value exactly. */
export const HEARTBEAT_COLUMNS = 'seq::text as seq, written_at, lsn::text as lsn';

export interface HeartbeatRow {
  seq: string;
  written_at: Date;
  lsn: string;
}

export function parseHeartbeatRow(row: HeartbeatRow): Heartbeat {
  return { seq: Number(row.seq), writtenAt: row.written_at, lsn: parseLsn(row.lsn) };
}
