// Job kind `full`: one full base backup, exactly as `lifeboat backup full`, unless the repository shows this run
// already took it (a redelivery after its daemon died before recording the result).
import { z } from 'zod';
import { findRunBackup } from '../find-run-backup.js';
import { jobDataSchema, type JobKind } from '../job-kind.js';

const dataSchema = jobDataSchema('full', {});

export const fullKind: JobKind<z.infer<typeof dataSchema>> = {
  name: 'full',
  dataSchema,
  locks: ['base-backup'],
  async run({ config, cluster, log, signal, lifeboatVersion, runKey, runNotBefore }) {
    const [{ runFullBackup }, { openRepository }] = await Promise.all([import('../../backup/full/run-full-backup.js'), import('../../repository/open-repository.js')]);
    const repository = await openRepository(config, 'write');
    try {
      const earlier = await findRunBackup(repository.storage, cluster.name, runKey, runNotBefore, signal);
      if (earlier) return { backupId: earlier.backupId, duplicate: true, message: `this run already took full backup ${earlier.backupId}; no second backup` };
      const manifest = await runFullBackup({ config, cluster, storage: repository.storage, keys: repository.keys, log, signal, lifeboatVersion, runKey });
      return { backupId: manifest.backupId, message: `full backup ${manifest.backupId}: WAL ${manifest.startLsn} - ${manifest.stopLsn}, ${manifest.parts.length} part(s)` };
    } finally {
      repository.close();
    }
  },
};
