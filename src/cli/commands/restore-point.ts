// `lifeboat restore-point NAME`: a named point on the server, recorded in the repository for `restore --to-name`.
import type { Command } from 'commander';
import { selectCluster } from '../../config/index.js';
import { runRestorePoint } from '../../restore/run-restore-point.js';
import type { CommandContext } from '../command-context.js';
import { withRepository } from '../with-repository.js';

export function registerRestorePoint(program: Command, context: () => CommandContext): void {
  program
    .command('restore-point <name>')
    .description('create a named restore point on the server and record it in the repository')
    .option('--cluster <name>', 'cluster (default: the only one configured)')
    .option('--json', 'print the record as JSON')
    .action(async (name: string, options: { cluster?: string; json?: boolean }) => {
      const ctx = context();
      const config = ctx.config();
      const cluster = selectCluster(config, options.cluster);
      await withRepository(ctx, 'write', async (repository) => {
        const record = await runRestorePoint(cluster, repository.storage, name, ctx.signal);
        ctx.out(options.json ? JSON.stringify(record, null, 2) : `restore point "${record.name}" created at ${record.lsn} on timeline ${record.timeline}`);
      });
    });
}
