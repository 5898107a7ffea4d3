// Moves the guard slot forward to the end of WAL durably stored: never backward (PostgreSQL refuses that, and
// a guard recreated after being dropped may already be ahead) and never past what is stored.
import { LifeboatError } from '../../errors/index.js';
import { advanceSlot, ensurePhysicalSlot, readSlot, type Lsn, type PgClient } from '../../postgres/index.js';

export interface AdvancedGuard {
  /** The guard's restart LSN now. */
  restartLsn: Lsn | undefined;
  /** True when the slot had been dropped and was created again (reserving WAL from now on). */
  recreated: boolean;
}

export async function advanceGuardSlot(client: PgClient, slotName: string, targetLsn: Lsn): Promise<AdvancedGuard> {
  const slot = await readSlot(client, slotName);
  if (!slot) {
    const created = await ensurePhysicalSlot(client, slotName);
    return { restartLsn: created.restartLsn, recreated: true };
  }
  if (slot.restartLsn === undefined) {
    throw new LifeboatError('postgresConfig', `the guard slot "${slotName}" holds no WAL (wal_status ${slot.walStatus ?? 'unknown'}): the server may have removed WAL not yet archived`, {
      hint: 'unset max_slot_wal_keep_size (or raise it), drop the slot so the archiver recreates it, and take a new full backup',
    });
  }
  if (slot.restartLsn >= targetLsn) return { restartLsn: slot.restartLsn, recreated: false };
  const moved = await advanceSlot(client, slotName, targetLsn);
  return { restartLsn: moved ?? slot.restartLsn, recreated: false };
}
