// `lifeboat cluster drop-slots`: drop the cluster's Lifeboat slots after saying what that gives up; asks y/N on a
// terminal, and needs --yes anywhere else.
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { DROP_SLOTS_CONSEQUENCES, runDropSlots, type SlotToDrop } from '../../backup/wal-archive/run-drop-slots.js';
import { selectCluster } from '../../config/index.js';
import { LifeboatError } from '../../errors/index.js';
import type { CommandContext } from '../command-context.js';

function describeSlots(slots: readonly SlotToDrop[]): string {
  const retained = (slot: SlotToDrop): string =>
    slot.retainedBytes === undefined ? 'reserves no WAL' : `keeps ${(slot.retainedBytes / (1024 * 1024)).toFixed(1)} MiB of WAL`;
  return slots.map((slot) => `  slot "${slot.name}" ${retained(slot)}`).join('\n');
}

async function askOnTerminal(question: string, signal: AbortSignal): Promise<boolean> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await prompt.question(question, { signal })).trim());
  } finally {
    prompt.close();
  }
}

export function registerClusterDropSlots(parent: Command, context: () => CommandContext): void {
  parent
    .command('drop-slots')
    .description("drop the cluster's Lifeboat replication slots (streaming and guard), so the server stops keeping WAL for it")
    .option('--cluster <name>', 'cluster (default: the only one configured)')
    .option('--yes', 'do not ask for confirmation (required when stdin is not a terminal)')
    .action(async (options: { cluster?: string; yes?: boolean }) => {
      const ctx = context();
      const config = ctx.config();
      const cluster = selectCluster(config, options.cluster);
      // Refuse before connecting: without a terminal nobody can answer, and silence must not mean yes.
      if (options.yes !== true && process.stdin.isTTY !== true) {
        throw new LifeboatError('usage', `cluster drop-slots asks for confirmation, and stdin is not a terminal`, {
          hint: `re-run with --yes to drop slots "${cluster.wal.slotName}" and "${cluster.wal.guardSlotName}"; ${DROP_SLOTS_CONSEQUENCES}`,
        });
      }
      const result = await runDropSlots({
        config,
        cluster,
        confirm: async (slots) => {
          ctx.out(`cluster ${cluster.name}:\n${describeSlots(slots)}\ndropping them means ${DROP_SLOTS_CONSEQUENCES}.`);
          return options.yes === true || askOnTerminal('drop these slots? [y/N] ', ctx.signal);
        },
      });
      if (result.dropped.length === 0) ctx.out(`cluster ${cluster.name}: no lifeboat slots to drop ("${result.absent.join('", "')}" do not exist)`);
      else ctx.out(`dropped ${result.dropped.map((name) => `"${name}"`).join(' and ')}`);
    });
}
