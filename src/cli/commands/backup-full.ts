// `lifeboat backup full`: take one full base backup of a cluster and print its summary (or JSON manifest).
import type { Command } from 'commander';
import { runFullBackup } from '../../backup/full/run-full-backup.js';
import { selectCluster } from '../../config/index.js';
import type { CommandContext } from '../command-context.js';
import { withRepository } from '../with-repository.js';
import { createProgressReporter } from '../progress-reporter.js';
import { LIFEBOAT_VERSION } from '../version.js';

export function registerBackupFull(parent: Command, context: () => CommandContext): void {
  parent
    .command('full')
    .description('take a full base backup (streamed from pg_basebackup) and wait until its WAL is archived')
    .option('--cluster <name>', 'cluster to back up (default: the only one configured)')
    .option('--json', 'print the backup manifest as JSON')
    .action(async (options: { cluster?: string; json?: boolean }) => {
      const ctx = context();
      const config = ctx.config();
      const cluster = selectCluster(config, options.cluster);
      await withRepository(ctx, 'write', async (repository) => {
        const progress = createProgressReporter({ label: 'backup', stream: process.stderr, log: ctx.log });
        try {
          const manifest = await runFullBackup({
            config,
            cluster,
            storage: repository.storage,
            keys: repository.keys,
            log: ctx.log,
            signal: ctx.signal,
            lifeboatVersion: LIFEBOAT_VERSION,
            onProgress: (done, estimated) => progress.update('base', done, estimated),
          });
          progress.done();
          if (options.json) {
            ctx.out(JSON.stringify(manifest, null, 2));
          } else {
            const stored = manifest.parts.reduce((sum, part) => sum + part.storedSizeBytes, 0);
            const seconds = (Date.parse(manifest.stopTime) - Date.parse(manifest.startTime)) / 1000;
            ctx.out(
              `backup ${manifest.backupId} complete: ${(manifest.tarSizeBytes / 1e6).toFixed(1)} MB in ${manifest.parts.length} part(s), ` +
                `stored ${(stored / 1e6).toFixed(1)} MB, WAL ${manifest.startLsn} - ${manifest.stopLsn} on timeline ${manifest.timeline}, ${seconds.toFixed(1)} s`,
            );
          }
        } finally {
          progress.done();
        }
      });
    });
}
