// `lifeboat backups list`: the catalog, from the repository alone: backups, increments and the recoverable window.
import type { Command } from 'commander';
import { selectCluster } from '../../config/index.js';
import { createDecryptionSession } from '../../crypto/index.js';
import { describeCluster, type ClusterCatalog } from '../../repository/describe-cluster.js';
import { openRepository } from '../../repository/open-repository.js';
import type { CommandContext } from '../command-context.js';

function formatBytes(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

export function formatCatalog(catalog: ClusterCatalog): string {
  const lines = [`cluster ${catalog.cluster}${catalog.systemIdentifier ? ` (system ${catalog.systemIdentifier}, PostgreSQL ${catalog.postgresMajorVersion})` : ''}`];
  if (catalog.backups.length === 0) lines.push('  no backups yet');
  for (const entry of catalog.backups) {
    const when = entry.type === 'full' ? entry.consistentXactTime ?? entry.stopTime : entry.lastXactTime ?? entry.stopTime;
    lines.push(`  ${entry.backupId}  ${entry.type.padEnd(11)}  ${entry.startLsn} - ${entry.stopLsn}  tl ${entry.timeline}  ${formatBytes(entry.sizeBytes)} (stored ${formatBytes(entry.storedSizeBytes)})  up to ${when}`);
  }
  if (catalog.window) {
    const { earliest, latest } = catalog.window;
    lines.push(`  recoverable: ${earliest.time ?? '(time unknown)'} (${earliest.lsn})  to  ${latest.time ?? '(time unknown)'} (${latest.lsn}, from ${latest.source})`);
  }
  if (catalog.gaps.length > 0) lines.push(`  WAL GAP: missing ${catalog.gaps.slice(0, 5).join(', ')}${catalog.gaps.length > 5 ? ` and ${catalog.gaps.length - 5} more` : ''}`);
  return lines.join('\n');
}

export function registerBackupsList(parent: Command, context: () => CommandContext): void {
  parent
    .command('list')
    .description('list backups, increments and the recoverable window, from the repository alone')
    .option('--cluster <name>', 'only this cluster (may be one the config does not name)')
    .option('--json', 'print JSON: { clusters: [ { cluster, systemIdentifier, backups[], window, gaps[] } ] }')
    .action(async (options: { cluster?: string; json?: boolean }) => {
      const ctx = context();
      const config = ctx.config();
      const names = options.cluster ? [options.cluster] : config.clusters.map((c) => c.name);
      if (options.cluster && config.clusters.some((c) => c.name === options.cluster)) selectCluster(config, options.cluster);
      const repository = await openRepository(config, 'read');
      const session = createDecryptionSession(repository.keys, { signal: ctx.signal });
      try {
        const clusters: ClusterCatalog[] = [];
        for (const name of names) clusters.push(await describeCluster(repository.storage, session, name, ctx.signal));
        ctx.out(options.json ? JSON.stringify({ clusters }, null, 2) : clusters.map(formatCatalog).join('\n\n'));
      } finally {
        session.close();
        repository.close();
      }
    });
}
