// Downloads, verifies, decrypts, decompresses and extracts the base backup's parts in parallel (bounded), each
// straight into tar running as the target's owner. global/pg_control is held back under a pending name, so an
// interrupted restore can never be started; restore-recovery puts it in place last.
import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import type { DecryptionSession } from '../crypto/index.js';
import { LifeboatError } from '../errors/index.js';
import { readObjectInto } from '../pipeline/index.js';
import type { FullBackupManifest } from '../repository/backup-manifest.js';
import { forEachBounded, type Storage } from '../storage/index.js';
import type { OsOwner } from './target-dir.js';

export const PENDING_PG_CONTROL = 'global/pg_control.lifeboat-pending';

export interface FetchBaseOptions {
  storage: Storage;
  session: DecryptionSession;
  backup: FullBackupManifest;
  targetDir: string;
  owner: OsOwner;
  /** Parts restored at once; default 2 (each runs decompression and a tar process). */
  concurrency?: number;
  onProgress?: (storedBytesDone: number) => void;
  signal: AbortSignal;
}

/**
 * Writes `chunk` to tar's stdin; resolves once it is handed to the OS (the write callback), so the caller may reuse
 * its memory. Resolves false, writing nothing, when tar no longer reads: it stops at the archive's end-of-archive
 * blocks and exits, and then its exit code, not the broken pipe, says whether the extraction worked.
 */
function writeChunk(stream: Writable, chunk: Uint8Array): Promise<boolean> {
  if (stream.destroyed || stream.writableEnded) return Promise.resolve(false);
  return new Promise((resolve) => {
    stream.write(chunk, (error?: Error | null) => resolve(!error));
  });
}

async function extractPart(options: FetchBaseOptions, part: FullBackupManifest['parts'][number], counted: (bytes: number) => void): Promise<void> {
  const tar = spawn('tar', ['-x', '-p', '-f', '-', '-C', options.targetDir, `--transform=s,^\\(\\./\\)\\?global/pg_control$,${PENDING_PG_CONTROL},`], {
    uid: process.getuid?.() === 0 ? options.owner.uid : undefined,
    gid: process.getuid?.() === 0 ? options.owner.gid : undefined,
    stdio: ['pipe', 'ignore', 'pipe'],
    signal: options.signal,
  });
  let stderr = '';
  tar.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4096);
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    tar.once('error', reject);
    tar.once('close', resolve);
  });
  // Write failures (tar gone: EPIPE) reach the awaited write callbacks; without a listener they would also crash us.
  tar.stdin.on('error', () => undefined);
  let last = 0;
  const reportEvery = 8 << 20;
  let plain = 0;
  // Each decoded block goes to tar's stdin as is (a view of the decoder's block, reused once written), one at a time.
  // Once tar stops reading, the rest is still read and verified, and dropped.
  let tarReads = true;
  const sink = async (chunk: Uint8Array): Promise<void> => {
    if (tarReads) tarReads = await writeChunk(tar.stdin, chunk);
    plain += chunk.length;
    // Progress is in stored bytes (what is downloaded), scaled from the plaintext read so far.
    const stored = Math.floor((plain / Math.max(1, part.plaintextSizeBytes)) * part.storedSizeBytes);
    if (stored - last >= reportEvery) {
      counted(stored - last);
      last = stored;
    }
  };
  try {
    await readObjectInto(
      {
        storage: options.storage,
        key: part.key,
        session: options.session,
        expected: part,
        expectedScope: { cluster: options.backup.cluster, family: 'base', backupId: options.backup.backupId },
        signal: options.signal,
      },
      sink,
    );
    if (!tar.stdin.destroyed && !tar.stdin.writableEnded) await new Promise<void>((resolve) => tar.stdin.end(() => resolve()));
  } catch (error) {
    tar.kill();
    await exited.catch(() => undefined);
    throw error;
  }
  const code = await exited;
  counted(part.storedSizeBytes - last);
  if (code !== 0) {
    throw new TarFailure(`tar could not extract ${part.key} into ${options.targetDir} (exit ${code}): ${stderr.trim()}`, /Cannot open: No such file or directory/.test(stderr));
  }
}

/** tar's own failure; `missingFolder` when a member's folder was missing (see fetchBase). */
class TarFailure extends LifeboatError {
  constructor(
    message: string,
    readonly missingFolder: boolean,
  ) {
    super('internal', message, { hint: 'check that the target folder is writable by its owner and that the disk has space' });
  }
}

export async function fetchBase(options: FetchBaseOptions): Promise<void> {
  let done = 0;
  // A first report at zero marks the start, so the first rate shown covers the whole fetch so far.
  options.onProgress?.(0);
  const counted = (bytes: number): void => {
    done += bytes;
    options.onProgress?.(done);
  };
  // A part may start in the middle of a folder whose entry the previous part holds. tar creates missing folders
  // itself, but when two tars race to create one, GNU tar gives up on the member ("Cannot open: No such file or
  // directory"; seen in the PITR tests). Such a part is extracted again once the others are done:
  // every folder exists by then, and extracting the same bytes twice leaves the same files.
  const retry: FullBackupManifest['parts'] = [];
  await forEachBounded(
    options.backup.parts,
    options.concurrency ?? 2,
    async (part) => {
      try {
        await extractPart(options, part, counted);
      } catch (error) {
        if (!(error instanceof TarFailure && error.missingFolder)) throw error;
        retry.push(part);
      }
    },
    options.signal,
  );
  for (const part of retry) await extractPart(options, part, () => undefined);
}
