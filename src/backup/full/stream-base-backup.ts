// Streams pg_basebackup's tar output straight into the repository: cut into parts at member boundaries, each
// part compressed, encrypted and stored as it flows. No local copy; memory bounded by the pipeline's buffers.
import type { Logger } from 'pino';
import type { RuntimeCluster } from '../../config/index.js';
import type { EncryptionSession } from '../../crypto/index.js';
import { LifeboatError, isLifeboatError } from '../../errors/index.js';
import { writeObject, type StoredObject } from '../../pipeline/index.js';
import { startPgTool } from '../../postgres/index.js';
import { backupPartKey, type Storage } from '../../storage/index.js';
import { splitTarStream } from '../split-tar-stream.js';

export interface StreamBaseBackupOptions {
  cluster: RuntimeCluster;
  backupId: string;
  storage: Storage;
  session: EncryptionSession;
  compression: { algorithm: 'zstd' | 'gzip' | 'none'; level: number };
  log: Logger;
  signal: AbortSignal;
  /** Tar bytes read from pg_basebackup so far. */
  onProgress?: (tarBytes: number) => void;
}

export interface StreamedBaseBackup {
  parts: StoredObject[];
  tarSizeBytes: number;
  members: number;
  backupLabel: string;
  /** The last 1 MiB of PostgreSQL's backup_manifest (holds the WAL-Ranges section). */
  manifestTail: string;
}

/** Bytes of backup_manifest kept: the WAL ranges and checksum sit at its very end. */
const MANIFEST_TAIL_BYTES = 1 << 20;

export async function streamBaseBackup(options: StreamBaseBackupOptions): Promise<StreamedBaseBackup> {
  const { cluster, backupId, storage, session, log, signal } = options;
  const args = [
    '--pgdata=-',
    '--format=tar',
    '--wal-method=none',
    `--checkpoint=${cluster.backup.checkpoint}`,
    '--manifest-checksums=SHA256',
    `--label=lifeboat ${backupId}`,
    '--no-password',
  ];
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  const tool = startPgTool(cluster, 'pg_basebackup', args, { signal: controller.signal, applicationName: 'lifeboat-basebackup' });
  const parts: StoredObject[] = [];
  const splitting = splitTarStream(tool.child.stdout!, {
    targetPartBytes: cluster.backup.partSizeMiB * 1024 * 1024,
    capture: { names: ['backup_label', 'backup_manifest'], maxBytes: MANIFEST_TAIL_BYTES },
    signal: controller.signal,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    onPart: async ({ partNumber, stream }) => {
      const stored = await writeObject({
        storage,
        key: backupPartKey(cluster.name, backupId, partNumber),
        source: stream,
        compression: options.compression,
        session,
        createOnly: true,
        signal: controller.signal,
      });
      parts[partNumber - 1] = stored;
      log.info({ partNumber, plaintextSizeBytes: stored.plaintextSizeBytes, storedSizeBytes: stored.storedSizeBytes }, 'base backup part stored');
    },
  });
  // If storing fails, stop pg_basebackup; if pg_basebackup fails, its own message is the one to report.
  splitting.catch(() => controller.abort());
  const [split, ran] = await Promise.allSettled([splitting, tool.done]);
  signal.removeEventListener('abort', onAbort);
  if (split.status === 'rejected') {
    // A truncated stream or an abort is the consequence of pg_basebackup failing; report the cause.
    const consequence = isLifeboatError(split.reason, 'objectTruncated') || isLifeboatError(split.reason, 'aborted');
    throw consequence && ran.status === 'rejected' ? ran.reason : split.reason;
  }
  if (ran.status === 'rejected') throw ran.reason;
  const label = split.value.captured.get('backup_label');
  const manifest = split.value.captured.get('backup_manifest');
  if (!label || !manifest) {
    throw new LifeboatError('postgresTool', `pg_basebackup's stream lacks ${!label ? 'backup_label' : 'backup_manifest'}`, {
      hint: 'pg_basebackup must be version 13 or newer and must not run with --no-manifest',
    });
  }
  return {
    parts,
    tarSizeBytes: split.value.tarBytes,
    members: split.value.members,
    backupLabel: label.toString('utf8'),
    manifestTail: manifest.toString('utf8'),
  };
}
