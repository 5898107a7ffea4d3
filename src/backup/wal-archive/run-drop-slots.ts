// `lifeboat cluster drop-slots`: removes a cluster's two Lifeboat slots (streaming and guard) from the server,
// for a cluster no longer archived, whose slots would otherwise keep WAL until the server's disk fills. Refuses
// while an archiver streams from them or holds this host's archiver lock, and drops only after confirmation.
import type { RuntimeCluster, RuntimeConfig } from '../../config/index.js';
import { LifeboatError } from '../../errors/index.js';
import { connectPostgres, dropSlot, readSlot, readSlotRetention, requirePrivileges, slotInUseError } from '../../postgres/index.js';
import { walArchiveLockName } from '../../state/lock-names.js';
import { probeProcessLock } from '../../state/process-lock.js';

/** What dropping the slots gives up, for the confirmation prompt and the refusal without one. */
export const DROP_SLOTS_CONSEQUENCES =
  'the server stops keeping WAL for Lifeboat: once it removes WAL that was not archived, archiving resumes only after a new full backup (lifeboat backup full), and point-in-time recovery past the last archived WAL is lost';

export interface SlotToDrop {
  name: string;
  /** WAL the slot keeps on the server, in bytes; undefined when it reserves none. */
  retainedBytes: number | undefined;
}

export interface RunDropSlotsOptions {
  config: RuntimeConfig;
  cluster: RuntimeCluster;
  /** Asked once the slots are known to exist and be idle; resolve true to drop them. */
  confirm: (slots: readonly SlotToDrop[]) => Promise<boolean>;
}

export interface DropSlotsResult {
  dropped: string[];
  /** Slots that did not exist. */
  absent: string[];
}

export async function runDropSlots(options: RunDropSlotsOptions): Promise<DropSlotsResult> {
  const { config, cluster } = options;
  const names = [cluster.wal.slotName, cluster.wal.guardSlotName];

  // 1. An archiver on this host would create the slots again at once: refuse while it runs.
  const holder = await probeProcessLock(config.stateDir, walArchiveLockName(cluster.name));
  if (holder !== undefined) {
    throw new LifeboatError('locked', `the WAL archiver of cluster "${cluster.name}" is running (pid ${holder.pid}, ${holder.purpose})`, {
      hint: `stop process ${holder.pid} first; it would create the slots again`,
    });
  }

  const client = await connectPostgres(cluster.postgres, 'lifeboat-drop-slots');
  try {
    await requirePrivileges(client, cluster.postgres.user, 'cluster drop-slots');
    // 2. A slot a walsender streams from belongs to a live archiver (here or on another host): refuse, naming it.
    const existing: SlotToDrop[] = [];
    for (const name of names) {
      const slot = await readSlot(client, name);
      if (slot?.active) throw slotInUseError(name, slot.activePid);
      if (slot) existing.push({ name, retainedBytes: undefined });
    }
    if (existing.length === 0) return { dropped: [], absent: names };
    const retention = await readSlotRetention(client, existing.map((slot) => slot.name));
    for (const slot of existing) slot.retainedBytes = retention.find((r) => r.name === slot.name)?.retainedBytes;

    // 3. Only with the operator's consent: dropping gives up the WAL the server keeps for Lifeboat.
    if (!(await options.confirm(existing))) {
      throw new LifeboatError('aborted', 'not confirmed; no slot was dropped', { hint: 'answer "y" to drop the slots, or pass --yes' });
    }

    // 4. Drop; a walsender that started meanwhile makes PostgreSQL refuse, and that refusal names its pid.
    const dropped: string[] = [];
    for (const slot of existing) if (await dropSlot(client, slot.name)) dropped.push(slot.name);
    return { dropped, absent: names.filter((name) => !dropped.includes(name)) };
  } finally {
    await client.end();
  }
}
