// `lifeboat backups list`: the catalog, from the repository alone: backups, increments and the recoverable window.
import type { Command } from 'commander';
import { createDecryptionSession } from '../../crypto/index.js';
import { describeCluster, type ClusterCatalog } from '../../repository/describe-cluster.js';
import { listRepositoryClusters } from '../../repository/list-repository-clusters.js';
import type { CommandContext } from '../command-context.js';
import { withRepository } from '../with-repository.js';

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
    .option('--cluster <name>', 'only this cluster (default: every cluster in the repository or the config)')
    .option('--json', 'print JSON: { clusters: [ { cluster, systemIdentifier, backups[], window, gaps[] } ] }')
    .action(async (options: { cluster?: string; json?: boolean }) => {
      const ctx = context();
      const config = ctx.config();
      await withRepository(ctx, 'read', async (repository) => {
        const session = createDecryptionSession(repository.keys, { signal: ctx.signal });
        try {
          // Every cluster the repository holds (a DR host's config may name none), and configured ones not stored yet.
          const names = options.cluster
            ? [options.cluster]
            : [...new Set([...config.clusters.map((c) => c.name), ...(await listRepositoryClusters(repository.storage, ctx.signal))])].sort();
          const clusters: ClusterCatalog[] = [];
          for (const name of names) clusters.push(await describeCluster(repository.storage, session, name, ctx.signal));
          const text = clusters.length > 0 ? clusters.map(formatCatalog).join('\n\n') : 'the repository holds no cluster yet';
          ctx.out(options.json ? JSON.stringify({ clusters }, null, 2) : text);
        } finally {
          session.close();
        }
      });
    });
}
