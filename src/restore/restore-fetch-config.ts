// What `lifeboat wal fetch` needs when PostgreSQL runs it as restore_command during a restore: the repository,
// the key and the prefetch folder, with secrets resolved. Written 0600, owned by the PostgreSQL OS user, outside
// the data directory; it exists only while the restore needs it.
import { chownSync, readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { LifeboatError } from '../errors/index.js';
import { plannedWalRangeSchema } from './wal-fetch/planned-wal.js';

const s3Schema = z.strictObject({
  driver: z.literal('s3'),
  bucket: z.string(),
  region: z.string(),
  prefix: z.string().optional(),
  endpoint: z.string().optional(),
  forcePathStyle: z.boolean().optional(),
  partSizeBytes: z.number().int().optional(),
  credentials: z.strictObject({ accessKeyId: z.string(), secretAccessKey: z.string(), sessionToken: z.string().optional() }).optional(),
});

export const restoreFetchConfigSchema = z.strictObject({
  formatVersion: z.literal(1),
  cluster: z.string(),
  repository: z.discriminatedUnion('driver', [z.strictObject({ driver: z.literal('fs'), path: z.string() }), s3Schema]),
  encryption: z.discriminatedUnion('provider', [
    /** The local key file's path (readable by the PostgreSQL OS user) — the key itself never goes in this file. */
    z.strictObject({ provider: z.literal('local'), keyFile: z.string() }),
    z.strictObject({
      provider: z.literal('aws-kms'),
      keyId: z.string(),
      region: z.string(),
      endpoint: z.string().optional(),
      credentials: z.strictObject({ accessKeyId: z.string(), secretAccessKey: z.string(), sessionToken: z.string().optional() }).optional(),
    }),
  ]),
  /** Where the restore prefetches WAL; `wal fetch` serves from here first. */
  prefetchDir: z.string(),
  segmentSizeBytes: z.number().int().positive(),
  /**
   * The segments the restore planned to replay. `wal fetch` fails (exit 126, recovery stops) for one of them
   * that the repository no longer holds, instead of answering "not found" (PostgreSQL would promote early).
   * Absent in fetch configs written before it existed.
   */
  plannedWal: z.array(plannedWalRangeSchema).optional(),
});

export type RestoreFetchConfig = z.infer<typeof restoreFetchConfigSchema>;

export function storeRestoreFetchConfig(path: string, config: RestoreFetchConfig, owner?: { uid: number; gid: number }): void {
  writeFileSync(path, `${JSON.stringify(restoreFetchConfigSchema.parse(config), null, 2)}\n`, { mode: 0o600 });
  if (owner) chownSync(path, owner.uid, owner.gid);
}

export function loadRestoreFetchConfig(path: string): RestoreFetchConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new LifeboatError('config', `cannot read the restore's fetch config ${path}`, { hint: 'it is written by `lifeboat restore`; was the restore folder removed?', cause: error });
  }
  const parsed = restoreFetchConfigSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new LifeboatError('config', `${path} is not a valid restore fetch config: ${parsed.error.issues[0]?.message ?? ''}`);
  return parsed.data;
}
