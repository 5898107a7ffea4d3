// Job kind `full`: one full base backup, exactly as `lifeboat backup full`.
import { z } from 'zod';
import { jobDataSchema, type JobKind } from '../job-kind.js';

const dataSchema = jobDataSchema('full', {});

export const fullKind: JobKind<z.infer<typeof dataSchema>> = {
  name: 'full',
  dataSchema,
  locks: ['base-backup'],
  async run({ config, cluster, log, signal, lifeboatVersion }) {
    const [{ runFullBackup }, { openRepository }] = await Promise.all([import('../../backup/full/run-full-backup.js'), import('../../repository/open-repository.js')]);
    const repository = await openRepository(config, 'write');
    try {
      const manifest = await runFullBackup({ config, cluster, storage: repository.storage, keys: repository.keys, log, signal, lifeboatVersion });
      return { backupId: manifest.backupId, message: `full backup ${manifest.backupId}: WAL ${manifest.startLsn} - ${manifest.stopLsn}, ${manifest.parts.length} part(s)` };
    } finally {
      repository.close();
    }
  },
};
