// `lifeboat wal archive`: run continuous WAL archiving in the foreground until SIGINT/SIGTERM; a graceful stop
// ships what pg_receivewal completed and the last partial before exiting. One per state folder and cluster: a
// second is refused (`locked`, naming the first's pid). Progress lines on stdout (wal-archive-reporter.ts).
import type { Command } from 'commander';
import { runWalArchive } from '../../backup/wal-archive/run-wal-archive.js';
import { selectCluster } from '../../config/index.js';
import type { CommandContext } from '../command-context.js';
import { withRepository } from '../with-repository.js';
import { createWalArchiveReporter } from '../wal-archive-reporter.js';

export function registerWalArchive(parent: Command, context: () => CommandContext): void {
  parent
    .command('archive')
    .description('stream WAL with pg_receivewal and archive it continuously (foreground, until interrupted)')
    .option('--cluster <name>', 'cluster whose WAL to archive (default: the only one configured)')
    .action(async (options: { cluster?: string }) => {
      const ctx = context();
      const config = ctx.config();
      const cluster = selectCluster(config, options.cluster);
      const reporter = createWalArchiveReporter((line) => ctx.out(line));
      await withRepository(ctx, 'write', async (repository) => {
        await runWalArchive({
          config, cluster, storage: repository.storage, keys: repository.keys, log: ctx.log, signal: ctx.signal,
          onEvent: (event) => reporter.event(event),
          onState: (state) => reporter.state(state),
        });
      });
    });
}
