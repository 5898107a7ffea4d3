// `lifeboat backup incr` (alias `incremental`) and `backup diff`: seal the WAL archived since the last backup into an
// hourly restore point. Until block-level backups land, `diff` runs the same sealing (the names are settled now).
import type { Command } from 'commander';
import { runIncrementalBackup } from '../../backup/incremental/run-incremental-backup.js';
import { selectCluster } from '../../config/index.js';
import type { CommandContext } from '../command-context.js';
import { withRepository } from '../with-repository.js';
import { LIFEBOAT_VERSION } from '../version.js';

export function registerBackupIncremental(parent: Command, context: () => CommandContext): void {
  registerSealCommand(parent.command('incr').alias('incremental'), 'seal the WAL archived since the previous backup into a restore point (verifying every segment)', context);
  registerSealCommand(parent.command('diff'), 'differential backup; today the same WAL sealing as `backup incr`', context);
}

function registerSealCommand(command: Command, description: string, context: () => CommandContext): void {
  command
    .description(description)
    .option('--cluster <name>', 'cluster (default: the only one configured)')
    .option('--json', 'print the increment manifest as JSON')
    .action(async (options: { cluster?: string; json?: boolean }) => {
      const ctx = context();
      const config = ctx.config();
      const cluster = selectCluster(config, options.cluster);
      await withRepository(ctx, 'write', async (repository) => {
        const manifest = await runIncrementalBackup({ cluster, storage: repository.storage, keys: repository.keys, log: ctx.log, signal: ctx.signal, lifeboatVersion: LIFEBOAT_VERSION });
        if (options.json) ctx.out(JSON.stringify(manifest ?? null, null, 2));
        else if (!manifest) ctx.out('nothing to seal: no complete WAL segment was archived since the last backup');
        else ctx.out(`increment ${manifest.backupId} sealed: ${manifest.segments.length} segment(s), WAL ${manifest.startLsn} - ${manifest.stopLsn}${manifest.lastXactTime ? `, last commit ${manifest.lastXactTime}` : ''}`);
      });
    });
}
