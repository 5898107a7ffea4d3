// The record of one run (a due run of a schedule, or an on-demand run), keyed by its run key: what makes runs
// idempotent (a second delivery finds it done or skipped and counts itself as a duplicate) and what `status` and
// `jobs run --wait` read. Kept for RECORD_TTL_S after its last update; indexed by update time.
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { runIndexKey, runRecordKey } from './redis-keys.js';

/** A record's state. `done` and `skipped` are final: a later delivery of the run is a duplicate. */
export type RunState = 'running' | 'done' | 'skipped' | 'failed' | 'retrying';

const recordSchema = z.object({
  runKey: z.string(),
  kind: z.string(),
  cluster: z.string(),
  state: z.enum(['running', 'done', 'skipped', 'failed', 'retrying']),
  jobId: z.string().optional(),
  /** Due time of a scheduled run (ISO). */
  dueAt: z.string().optional(),
  daemonId: z.string().optional(),
  startedAt: z.string().optional(),
  endedAt: z.string().optional(),
  backupId: z.string().optional(),
  message: z.string().optional(),
  errorCode: z.string().optional(),
  attempt: z.coerce.number().int().optional(),
  duplicates: z.coerce.number().int().optional(),
  lastDuplicateAt: z.string().optional(),
  updatedAt: z.string(),
});
export type RunRecord = z.infer<typeof recordSchema>;

/** How long a record outlives its last update: longer than BullMQ keeps the job, so a late duplicate finds it. */
export const RECORD_TTL_S = 45 * 24 * 3600;
/** Newest records kept in the index. */
const INDEX_LIMIT = 5000;

export function isFinalState(state: RunState): boolean {
  return state === 'done' || state === 'skipped';
}

export async function loadRunRecord(redis: Redis, prefix: string, runKey: string): Promise<RunRecord | undefined> {
  const fields = await redis.hgetall(runRecordKey(prefix, runKey));
  if (Object.keys(fields).length === 0) return undefined;
  const parsed = recordSchema.safeParse(fields);
  return parsed.success ? parsed.data : undefined;
}

/** Write (merge) the fields of a record and index it. Absent optional fields are left as they were. */
export async function storeRunRecord(redis: Redis, prefix: string, record: Omit<RunRecord, 'updatedAt'>): Promise<void> {
  const now = new Date();
  const key = runRecordKey(prefix, record.runKey);
  const fields: Record<string, string> = { updatedAt: now.toISOString() };
  for (const [name, value] of Object.entries(record)) if (value !== undefined) fields[name] = String(value);
  const transaction = redis.multi();
  // A new attempt starts clean: the previous attempt's outcome must not be read as this one's.
  if (record.state === 'running') transaction.hdel(key, 'endedAt', 'message', 'errorCode', 'backupId');
  await transaction
    .hset(key, fields)
    .expire(key, RECORD_TTL_S)
    .zadd(runIndexKey(prefix), now.getTime(), record.runKey)
    .zremrangebyrank(runIndexKey(prefix), 0, -INDEX_LIMIT - 1)
    .exec();
}

/** Count a second delivery of a run that already has a final record (or is running elsewhere). */
export async function countDuplicate(redis: Redis, prefix: string, runKey: string): Promise<void> {
  const key = runRecordKey(prefix, runKey);
  await redis.multi().hincrby(key, 'duplicates', 1).hset(key, 'lastDuplicateAt', new Date().toISOString()).expire(key, RECORD_TTL_S).exec();
}

/** The newest `limit` records, newest first. */
export async function listRecentRuns(redis: Redis, prefix: string, limit = 200): Promise<RunRecord[]> {
  const runKeys = await redis.zrevrange(runIndexKey(prefix), 0, limit - 1);
  const records = await Promise.all(runKeys.map((runKey) => loadRunRecord(redis, prefix, runKey)));
  return records.filter((record): record is RunRecord => record !== undefined);
}
