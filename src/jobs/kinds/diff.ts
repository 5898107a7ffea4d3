// Job kind `diff`: today the same WAL sealing as `incr` (see incr.ts); its own kind so that schedules, placement
// and the CLI name are settled before differential backups exist.
import { z } from 'zod';
import { jobDataSchema, type JobKind } from '../job-kind.js';
import { runWalIncrement } from './incr.js';

const dataSchema = jobDataSchema('diff', {});

export const diffKind: JobKind<z.infer<typeof dataSchema>> = {
  name: 'diff',
  dataSchema,
  locks: ['base-backup'],
  run: runWalIncrement,
};
