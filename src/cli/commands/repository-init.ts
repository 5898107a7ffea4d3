// `lifeboat repository init`: initialise an empty repository for the configured key (creating a missing key file)
// and record which key it is encrypted for; idempotent for the same key, refused for another.
import type { Command } from 'commander';
import { formatRecordedKeys } from '../../repository/repository-keys.js';
import { runRepositoryInit, type RepositoryInitReport } from '../../repository/run-repository-init.js';
import type { CommandContext } from '../command-context.js';

function formatReport(report: RepositoryInitReport): string {
  const created = report.keyFileCreated ? ' (key file created now: back it up, nothing can be restored without it)' : '';
  if (report.outcome === 'unchanged') return `repository ${report.location} already records ${formatRecordedKeys(report)}, the configured key; nothing to do`;
  if (report.outcome === 'recorded') {
    return `repository ${report.location} holds data; ${report.key} opened ${report.provenWith ?? 'it'} and is now recorded in ${report.recordKey}`;
  }
  return `repository ${report.location} initialised for ${report.key}${created}; recorded in ${report.recordKey}`;
}

export function registerRepositoryInit(parent: Command, context: () => CommandContext): void {
  parent
    .command('init')
    .description('initialise an empty repository: create the key file if missing and record which key the repository uses')
    .option('--json', 'print the result as JSON')
    .action(async (options: { json?: boolean }) => {
      const ctx = context();
      const report = await runRepositoryInit(ctx.config(), ctx.signal);
      ctx.out(options.json ? JSON.stringify(report, null, 2) : formatReport(report));
    });
}
