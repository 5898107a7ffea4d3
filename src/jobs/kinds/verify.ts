// Job kind `verify`: read back every backup of the cluster (or one) and the WAL it needs, as `lifeboat verify`.
// It only reads, so it takes no cluster lock; a problem fails the job with the problem's code.
import { z } from 'zod';
import { LifeboatError, type ErrorCode } from '../../errors/index.js';
import { jobDataSchema, type JobKind } from '../job-kind.js';

const dataSchema = jobDataSchema('verify', { backupId: z.string().min(1).max(100).optional() });

export const verifyKind: JobKind<z.infer<typeof dataSchema>> = {
  name: 'verify',
  dataSchema,
  locks: [],
  async run({ config, cluster, data, log, signal }) {
    const [{ runVerify }, { openRepository }] = await Promise.all([import('../../verify/run-verify.js'), import('../../repository/open-repository.js')]);
    const repository = await openRepository(config, 'read');
    try {
      const report = await runVerify({ storage: repository.storage, keys: repository.keys, cluster: cluster.name, ...(data.backupId ? { backupId: data.backupId } : {}), log, signal });
      const first = report.problems[0];
      if (first) {
        throw new LifeboatError(first.code as ErrorCode, `verification of cluster "${cluster.name}" found ${report.problems.length} problem(s), first: ${first.message}`, {
          hint: `run lifeboat verify --cluster ${cluster.name} for the full report`,
        });
      }
      return { message: `verified ${report.backupsChecked.length} backup(s), ${report.objectsChecked} object(s), ${report.walSegmentsChecked} WAL segment(s)` };
    } finally {
      repository.close();
    }
  },
};
