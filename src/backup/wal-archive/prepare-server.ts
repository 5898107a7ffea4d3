// Before archiving starts: the role must hold every privilege archiving needs (a missing one never heals, so it
// fails now naming the GRANT, not in a retry loop), the server must be the cluster the repository belongs to,
// both slots must exist, and the streaming slot must be free, so the new pg_receivewal does not fail on a slot
// still held by a receiver from an earlier run (an orphan just ended, or one on another host).
import { setTimeout as sleep } from 'node:timers/promises';
import type { RuntimeCluster } from '../../config/index.js';
import { LifeboatError } from '../../errors/index.js';
import { ensurePhysicalSlot, readServerInfo, readSlot, requirePrivileges, terminateSlotHolder, type PgClient, type ServerInfo } from '../../postgres/index.js';
import { ensureClusterIdentity } from '../../repository/cluster-identity.js';
import type { Storage } from '../../storage/index.js';

/** How long a terminated walsender may take to release the streaming slot. */
const SLOT_RELEASE_TIMEOUT_MS = 10_000;

export async function prepareServer(client: PgClient, cluster: RuntimeCluster, storage: Storage, signal: AbortSignal): Promise<ServerInfo> {
  await requirePrivileges(client, cluster.postgres.user, 'wal archive');
  const info = await readServerInfo(client);
  await ensureClusterIdentity(
    storage,
    { cluster: cluster.name, systemIdentifier: info.systemIdentifier, postgresMajorVersion: info.majorVersion, walSegmentSizeBytes: info.walSegmentSizeBytes },
    new Date(),
    signal,
  );
  await ensurePhysicalSlot(client, cluster.wal.guardSlotName);
  const name = cluster.wal.slotName;
  let slot = await ensurePhysicalSlot(client, name);
  const deadlineMs = Date.now() + SLOT_RELEASE_TIMEOUT_MS;
  while (slot.active) {
    if (Date.now() > deadlineMs) {
      throw new LifeboatError('postgresUnavailable', `replication slot "${name}" is still in use by backend ${slot.activePid ?? '?'}`, {
        hint: 'another pg_receivewal streams on this slot; stop the other archiver for this cluster, or give each its own wal.slotName',
      });
    }
    await terminateSlotHolder(client, slot);
    await sleep(100, undefined, { signal });
    slot = (await readSlot(client, name)) ?? (await ensurePhysicalSlot(client, name));
  }
  return info;
}
