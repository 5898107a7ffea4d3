// Job kind `incr`: seal the WAL archived since the chain's tip into a restore point, as `lifeboat backup incr`.
// Until block-level incrementals land, `diff` runs the same sealing.
import { z } from 'zod';
import { findRunBackup } from '../find-run-backup.js';
import { jobDataSchema, type JobKind, type JobRunContext, type JobSummary } from '../job-kind.js';

const dataSchema = jobDataSchema('incr', {});

/** The sealing both `incr` and `diff` run today (runIncrementalBackup, the CLI's `backup incr`). */
export async function runWalIncrement({ config, cluster, log, signal, lifeboatVersion, runKey, runNotBefore }: JobRunContext<unknown>): Promise<JobSummary> {
  const [{ runIncrementalBackup }, { openRepository }] = await Promise.all([
    import('../../backup/incremental/run-incremental-backup.js'),
    import('../../repository/open-repository.js'),
  ]);
  const repository = await openRepository(config, 'read');
  try {
    // A redelivered run whose daemon died after sealing finds its increment rather than sealing the next WAL.
    const earlier = await findRunBackup(repository.storage, cluster.name, runKey, runNotBefore, signal);
    if (earlier) return { backupId: earlier.backupId, duplicate: true, message: `this run already sealed increment ${earlier.backupId}; nothing new sealed` };
    const manifest = await runIncrementalBackup({ cluster, storage: repository.storage, keys: repository.keys, log, signal, lifeboatVersion, runKey });
    if (!manifest) return { message: 'nothing to seal: no complete WAL segment was archived since the last backup' };
    return { backupId: manifest.backupId, message: `increment ${manifest.backupId}: ${manifest.segments.length} segment(s), WAL ${manifest.startLsn} - ${manifest.stopLsn}` };
  } finally {
    repository.close();
  }
}

export const incrKind: JobKind<z.infer<typeof dataSchema>> = {
  name: 'incr',
  dataSchema,
  locks: ['base-backup'],
  run: runWalIncrement,
};
