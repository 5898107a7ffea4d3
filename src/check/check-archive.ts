// `check --archive`: the end-to-end archive check (pgBackRest's `check`): commit a transaction so there is WAL
// to switch away from, switch WAL, and wait until the segment just completed is in the repository. It proves
// that an archiver runs, streams from this server and stores into this repository, and says how long that took.
import type { RuntimeCluster } from '../config/index.js';
import { LifeboatError, describeError } from '../errors/index.js';
import { waitForWal } from '../backup/full/wait-for-wal.js';
import { createArchiverWatch } from '../backup/wal-archive/watch-archiver.js';
import { connectPostgres, isWalSegmentName, parseWalSegment, readServerInfo, requirePrivileges, segmentStartLsn, type PgClient, type WalSegmentName } from '../postgres/index.js';
import type { Storage } from '../storage/index.js';
import { checkStep, type CheckItem } from './check-item.js';

/** Switch to a new WAL segment and return the name of the one the switch completed. */
async function switchWal(client: PgClient, cluster: RuntimeCluster): Promise<WalSegmentName> {
  // Checked first, so a missing grant is named (with the GRANT) rather than met half-way.
  await requirePrivileges(client, cluster.postgres.user, 'check --archive');
  try {
    // A transaction with an xid writes a commit record, so the switch below always completes a segment.
    await client.query('select pg_current_xact_id()');
    const { rows } = await client.query<{ segment: string }>('select pg_walfile_name(pg_switch_wal()) as segment');
    const segment = rows[0]?.segment ?? '';
    if (!isWalSegmentName(segment)) throw new LifeboatError('internal', `pg_switch_wal() reported the segment "${segment}"`);
    return segment;
  } catch (error) {
    if (error instanceof LifeboatError) throw error;
    const code = (error as { code?: string }).code;
    if (code === '55000') {
      throw new LifeboatError('postgresConfig', `cannot switch WAL on ${cluster.postgres.host}:${cluster.postgres.port}: ${describeError(error)}`, {
        hint: 'the archive check switches WAL on the primary; point clusters[].postgres at it',
        cause: error,
      });
    }
    throw new LifeboatError('postgresUnavailable', `switching WAL failed: ${describeError(error)}`, { cause: error });
  }
}

export async function checkArchive(cluster: RuntimeCluster, stateDir: string, storage: Storage, signal: AbortSignal): Promise<CheckItem> {
  return checkStep('archive', async () => {
    const client = await connectPostgres(cluster.postgres, 'lifeboat-check');
    try {
      const { walSegmentSizeBytes } = await readServerInfo(client);
      const segment = await switchWal(client, cluster);
      const startLsn = segmentStartLsn(segment, walSegmentSizeBytes);
      const tookMs = await waitForWal({
        storage,
        cluster: cluster.name,
        timeline: parseWalSegment(segment, walSegmentSizeBytes).timeline,
        startLsn,
        stopLsn: (startLsn + BigInt(walSegmentSizeBytes)) as typeof startLsn,
        segmentSizeBytes: walSegmentSizeBytes,
        timeoutMs: cluster.wal.archiveTimeoutSeconds * 1000,
        what: `WAL segment ${segment} (completed by pg_switch_wal())`,
        archiver: createArchiverWatch({ cluster, stateDir, client }),
        signal,
      });
      return `WAL segment ${segment} reached the repository ${(tookMs / 1000).toFixed(1)} s after pg_switch_wal()`;
    } finally {
      await client.end().catch(() => undefined);
    }
  });
}
