// `check`'s disk warning: a Lifeboat slot whose archiver stopped (or fell far behind) makes the server keep WAL
// until pg_wal fills the disk. Warns past clusters[].wal.slotRetentionWarnMiB, saying how much and what to do.
import type { RuntimeCluster } from '../config/index.js';
import { readSlotRetention, type PgClient } from '../postgres/index.js';
import { passed, warned, type CheckItem } from './check-item.js';

const MIB = 1024 * 1024;

function formatMiB(bytes: number): string {
  return `${(bytes / MIB).toFixed(bytes < 10 * MIB ? 1 : 0)} MiB`;
}

export async function checkSlotRetention(client: PgClient, cluster: RuntimeCluster): Promise<CheckItem> {
  const name = 'slot retention';
  const { slotName, guardSlotName, slotRetentionWarnMiB } = cluster.wal;
  const slots = await readSlotRetention(client, [slotName, guardSlotName]);
  if (slots.length === 0) return passed(name, 'no lifeboat slots yet (the first wal archive or backup full creates them)');
  const described = slots.map((slot) => `"${slot.name}" ${slot.retainedBytes === undefined ? 'reserves no WAL' : `retains ${formatMiB(slot.retainedBytes)}`}`).join(', ');
  const over = slots.filter((slot) => slot.retainedBytes !== undefined && slot.retainedBytes > slotRetentionWarnMiB * MIB);
  if (over.length === 0) return passed(name, `${described} (warning above ${slotRetentionWarnMiB} MiB)`);
  return warned(
    name,
    `${described} of WAL on the server, more than wal.slotRetentionWarnMiB (${slotRetentionWarnMiB} MiB): the archiver is stopped or behind, and pg_wal grows until it runs`,
    `start the archiver (lifeboat wal archive --cluster ${cluster.name}) and it catches up; if this cluster is no longer backed up, drop the slots (lifeboat cluster drop-slots --cluster ${cluster.name})`,
  );
}
