// Tells within seconds whether any WAL archiver is working for a cluster, for commands that wait for WAL to reach
// the repository (the full backup's archive check, `check --archive`): without one they would wait out their whole
// timeout in silence. Signs of life: the streaming slot is active (pg_receivewal connected, from any host), this
// host's archiver holds its lock (it may be reconnecting), or the awaited WAL is arriving.
import type { RuntimeCluster } from '../../config/index.js';
import { LifeboatError } from '../../errors/index.js';
import { readSlot, type PgClient } from '../../postgres/index.js';
import { walArchiveLockName } from '../../state/lock-names.js';
import { probeProcessLock, type LockHolder } from '../../state/process-lock.js';

/** No sign of life for this long means no archiver: long enough for pg_receivewal's reconnect, short for a human. */
export const ARCHIVER_STALL_MS = 12_000;

export interface ArchiverEvidence {
  /** The streaming slot is in use; undefined when it could not be read. */
  slotActive: boolean | undefined;
  /** The `wal archive` process of this host and state folder, when one runs. */
  localArchiver: LockHolder | undefined;
  /** Time since the last sign of life, in ms. */
  quietMs: number;
}

export interface ArchiverWatch {
  /**
   * Look once. `progressed`: the awaited WAL advanced since the last look. Throws `postgresConfig` naming the
   * command to start an archiver once nothing showed life for the stall time; `waitingFor` names what is awaited.
   */
  observe(progressed: boolean, waitingFor: string): Promise<ArchiverEvidence>;
}

export interface ArchiverWatchOptions {
  cluster: RuntimeCluster;
  stateDir: string;
  /** A SQL connection to the cluster, owned by the caller. */
  client: PgClient;
  stallMs?: number;
  now?: () => number;
}

/** What shows right now whether an archiver works for `cluster` (the `quietMs` field is left at 0). */
export async function readArchiverEvidence(client: PgClient, cluster: RuntimeCluster, stateDir: string): Promise<ArchiverEvidence> {
  let slotActive: boolean | undefined;
  try {
    slotActive = (await readSlot(client, cluster.wal.slotName))?.active ?? false;
  } catch {
    // Unreadable (the server restarting): no proof either way, so it counts as alive and the timeout rules.
    slotActive = undefined;
  }
  const localArchiver = await probeProcessLock(stateDir, walArchiveLockName(cluster.name));
  return { slotActive, localArchiver, quietMs: 0 };
}

/** The command that starts an archiver for `cluster`, for messages. */
export function archiverCommand(cluster: RuntimeCluster): string {
  return `lifeboat wal archive --cluster ${cluster.name}`;
}

export function createArchiverWatch(options: ArchiverWatchOptions): ArchiverWatch {
  const { cluster } = options;
  const now = options.now ?? Date.now;
  const stallMs = options.stallMs ?? ARCHIVER_STALL_MS;
  let lastLifeMs = now();
  return {
    async observe(progressed, waitingFor) {
      const evidence = await readArchiverEvidence(options.client, cluster, options.stateDir);
      if (progressed || evidence.slotActive !== false || evidence.localArchiver !== undefined) lastLifeMs = now();
      const quietMs = now() - lastLifeMs;
      if (quietMs >= stallMs) {
        throw new LifeboatError(
          'postgresConfig',
          `${waitingFor} is not reaching the repository: no WAL archiver is running for cluster "${cluster.name}" (replication slot "${cluster.wal.slotName}" unused for ${Math.round(quietMs / 1000)} s, no \`lifeboat wal archive\` on this host)`,
          { hint: `start one and leave it running: \`${archiverCommand(cluster)}\` (or the daemon), then run this command again` },
        );
      }
      return { ...evidence, quietMs };
    },
  };
}
