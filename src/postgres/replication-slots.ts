// Physical replication slots: the streaming slot pg_receivewal uses, and the guard slot Lifeboat advances
// only past WAL that is durably in the repository, so the server keeps everything not yet stored.
import type pg from 'pg';
import { LifeboatError, isLifeboatError } from '../errors/index.js';
import { parseLsn, formatLsn, type Lsn } from './lsn.js';

export interface SlotState {
  name: string;
  /** Oldest WAL the server keeps for this slot; undefined when the slot never reserved WAL. */
  restartLsn: Lsn | undefined;
  active: boolean;
  /** PID of the walsender using the slot, when active. */
  activePid: number | undefined;
  /** `reserved`, `extended`, `unreserved` or `lost` (max_slot_wal_keep_size exceeded). */
  walStatus: string | undefined;
}

export async function readSlot(client: pg.Client, name: string): Promise<SlotState | undefined> {
  const { rows } = await client.query<{ restart_lsn: string | null; active: boolean; active_pid: number | null; wal_status: string | null; slot_type: string }>(
    `select restart_lsn::text, active, active_pid, wal_status, slot_type from pg_replication_slots where slot_name = $1`,
    [name],
  );
  const row = rows[0];
  if (!row) return undefined;
  if (row.slot_type !== 'physical') {
    throw new LifeboatError('postgresConfig', `replication slot "${name}" exists but is a ${row.slot_type} slot`, {
      hint: `drop it (select pg_drop_replication_slot('${name}')) or configure another slot name`,
    });
  }
  return {
    name,
    restartLsn: row.restart_lsn ? parseLsn(row.restart_lsn) : undefined,
    active: row.active,
    activePid: row.active_pid ?? undefined,
    walStatus: row.wal_status ?? undefined,
  };
}

/** Create a physical slot that reserves WAL from now on, unless it exists. Returns its state. */
export async function ensurePhysicalSlot(client: pg.Client, name: string): Promise<SlotState> {
  const existing = await readSlot(client, name);
  if (existing) return existing;
  try {
    await client.query('select pg_create_physical_replication_slot($1, true)', [name]);
  } catch (error) {
    // A missing privilege already names its GRANT (map-query-error.ts).
    if (isLifeboatError(error)) throw error;
    // Two archivers racing to create it: the loser reads the winner's slot.
    if ((error as { code?: string }).code !== '42710') {
      throw new LifeboatError('postgresConfig', `cannot create replication slot "${name}": ${(error as Error).message}`, {
        hint: 'the role needs REPLICATION, and max_replication_slots must leave room for two lifeboat slots',
        cause: error,
      });
    }
  }
  const created = await readSlot(client, name);
  if (!created) throw new LifeboatError('internal', `replication slot "${name}" vanished right after creation`);
  return created;
}

/**
 * Move a slot's restart point forward to `lsn`. PostgreSQL raises an error for a target before the slot's
 * current position, so callers read the slot first and only ever move it forward. Returns the new restart LSN.
 */
export async function advanceSlot(client: pg.Client, name: string, lsn: Lsn): Promise<Lsn | undefined> {
  const { rows } = await client.query<{ end_lsn: string | null }>('select end_lsn::text from pg_replication_slot_advance($1, $2::pg_lsn)', [name, formatLsn(lsn)]);
  return rows[0]?.end_lsn ? parseLsn(rows[0].end_lsn) : undefined;
}

/**
 * End the walsender holding a slot (an orphaned pg_receivewal, possibly on another machine). Only walsenders are
 * ended: a regular backend holds a slot for a moment while creating it (e.g. a full backup's ensurePhysicalSlot),
 * and killing that would fail someone else's work.
 */
export async function terminateSlotHolder(client: pg.Client, slot: SlotState): Promise<boolean> {
  if (!slot.activePid) return false;
  const { rows } = await client.query<{ ok: boolean }>(
    `select pg_terminate_backend(pid) as ok from pg_stat_activity where pid = $1 and backend_type = 'walsender'`,
    [slot.activePid],
  );
  return rows[0]?.ok === true;
}

/**
 * Drop a slot. Returns false when it did not exist; throws `locked` naming the walsender's pid when it is in use
 * (PostgreSQL refuses to drop an active slot, SQLSTATE 55006).
 */
export async function dropSlot(client: pg.Client, name: string): Promise<boolean> {
  try {
    await client.query('select pg_drop_replication_slot($1)', [name]);
    return true;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === '42704') return false;
    if (code === '55006') {
      const pid = /PID (\d+)/.exec((error as Error).message)?.[1];
      throw slotInUseError(name, pid === undefined ? undefined : Number(pid), error);
    }
    throw error;
  }
}

/** The refusal for a slot a walsender (pg_receivewal) is streaming from. */
export function slotInUseError(name: string, pid: number | undefined, cause?: unknown): LifeboatError {
  return new LifeboatError('locked', `replication slot "${name}" is in use by walsender pid ${pid ?? '?'} (an archiver is streaming from it)`, {
    hint: 'stop the archiver streaming from it (lifeboat wal archive) and try again',
    ...(cause === undefined ? {} : { cause }),
  });
}

/** How many bytes of WAL each named slot keeps on the server (from its restart LSN to the current position). */
export async function readSlotRetention(client: pg.Client, names: readonly string[]): Promise<{ name: string; retainedBytes: number | undefined; walStatus: string | undefined }[]> {
  const { rows } = await client.query<{ slot_name: string; retained_bytes: string | null; wal_status: string | null }>(
    `select slot_name,
            pg_wal_lsn_diff(case when pg_is_in_recovery() then pg_last_wal_replay_lsn() else pg_current_wal_lsn() end, restart_lsn)::bigint::text as retained_bytes,
            wal_status
       from pg_replication_slots where slot_name = any($1::text[]) order by slot_name`,
    [names],
  );
  return rows.map((row) => ({
    name: row.slot_name,
    retainedBytes: row.retained_bytes === null ? undefined : Number(row.retained_bytes),
    walStatus: row.wal_status ?? undefined,
  }));
}

/** The server's current WAL write position (primary) or last replayed position (standby). */
export async function currentWalLsn(client: pg.Client): Promise<Lsn> {
  const { rows } = await client.query<{ lsn: string }>(
    'select (case when pg_is_in_recovery() then pg_last_wal_replay_lsn() else pg_current_wal_lsn() end)::text as lsn',
  );
  return parseLsn(rows[0]!.lsn);
}

/** The oldest WAL segment file still in the server's pg_wal on `timelineHex` (8 hex digits), if any. */
export async function oldestServerSegment(client: pg.Client, timelineHex: string): Promise<string | undefined> {
  const { rows } = await client.query<{ name: string | null }>(
    `select min(name) as name from pg_ls_waldir() where name ~ '^[0-9A-F]{24}$' and left(name, 8) = $1`,
    [timelineHex],
  );
  return rows[0]?.name ?? undefined;
}
