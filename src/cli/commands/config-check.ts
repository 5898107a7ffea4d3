// `lifeboat config check`: validate the config file, resolve every secret reference, and print the result
// with defaults filled in and secrets masked. Exit 0 means every later command can load this config.
import type { Command } from 'commander';
import { checkSecrets, formatResolvedConfig, maskConfig } from '../../config/index.js';
import type { CommandContext } from '../command-context.js';

export function registerConfigCheck(parent: Command, context: () => CommandContext): void {
  parent
    .command('check')
    .description('validate the config file and print it resolved, secrets masked')
    .option('--json', 'print the resolved config as JSON')
    .action((options: { json?: boolean }) => {
      const ctx = context();
      const config = ctx.config();
      // Other commands resolve only the secrets they use; this one exists to check them all.
      checkSecrets(config);
      if (options.json) {
        ctx.out(JSON.stringify(maskConfig(config), null, 2));
      } else {
        ctx.out(`# ${config.configPath}: valid\n${formatResolvedConfig(config)}`);
      }
    });
}
