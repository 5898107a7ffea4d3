// The Lifeboat manifest of a backup: everything a restore needs to know, validated with zod when read back.
// It is written last and create-only, so its presence is what makes a backup exist (WAL-G's sentinel).
import { z } from 'zod';
import { storedObjectSchema } from '../pipeline/index.js';

const lsnText = z.string().regex(/^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/, 'an LSN like 0/1A2B3C4D');
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);
const isoTime = z.iso.datetime({ offset: true });
const segmentName = z.string().regex(/^[0-9A-F]{24}$/);

export const encryptionRecordSchema = z.strictObject({
  provider: z.enum(['local', 'aws-kms']),
  /** The wrapping key's id (local: derived from the key; aws-kms: key ARN). */
  keyId: z.string().min(1),
  /** The encryption context bound to every object of this backup. */
  context: z.record(z.string(), z.string()),
});

const commonFields = {
  formatVersion: z.literal(1),
  backupId: z.string().min(1),
  cluster: z.string().min(1),
  systemIdentifier: z.string().regex(/^\d+$/),
  postgresVersionNum: z.number().int(),
  walSegmentSizeBytes: z.number().int().positive(),
  lifeboatVersion: z.string(),
  /** Timeline the backup's WAL range ends on. */
  timeline: z.number().int().positive(),
  startLsn: lsnText,
  stopLsn: lsnText,
  /** When the backup started and became complete (ISO 8601 with zone). */
  startTime: isoTime,
  stopTime: isoTime,
  /**
   * The daemon run that took this backup (its scheduler and due time, or an on-demand run's key), absent for a
   * backup taken by the CLI. A redelivered run finds its backup by it in the catalog instead of taking another.
   */
  runKey: z.string().min(1).max(200).optional(),
};

export const fullBackupManifestSchema = z.strictObject({
  ...commonFields,
  type: z.literal('full'),
  startSegment: segmentName,
  stopSegment: segmentName,
  /** Where WAL replay starts (backup_label's CHECKPOINT LOCATION). */
  checkpointLsn: lsnText,
  /**
   * Commit time of the last transaction that ended at or before stopLsn, read from the WAL: the earliest time a
   * restore from this backup can target. Absent when no transaction ended in the backup's WAL range.
   */
  consistentXactTime: isoTime.optional(),
  options: z.strictObject({
    compression: z.strictObject({ algorithm: z.enum(['zstd', 'gzip', 'none']), level: z.number().int() }),
    checkpoint: z.enum(['fast', 'spread']),
    partSizeBytes: z.number().int().positive(),
  }),
  encryption: encryptionRecordSchema,
  /** Bytes of the base backup tar stream (the database size as backed up). */
  tarSizeBytes: z.number().int().nonnegative(),
  members: z.number().int().nonnegative(),
  parts: z.array(storedObjectSchema).min(1),
});

/** One archived WAL segment as sealed into an increment. */
export const sealedSegmentSchema = z.strictObject({
  segment: segmentName,
  key: z.string().min(1),
  plaintextSha256: sha256Hex,
  storedSizeBytes: z.number().int().nonnegative(),
});

export const incrementManifestSchema = z.strictObject({
  ...commonFields,
  type: z.literal('incremental'),
  /** The full backup this increment extends, and the previous entry in the chain (full or increment). */
  fullBackupId: z.string().min(1),
  parentBackupId: z.string().min(1),
  segments: z.array(sealedSegmentSchema),
  /** Commit/abort timestamps found in the sealed WAL (absent when it holds no transaction end). */
  firstXactTime: isoTime.optional(),
  lastXactTime: isoTime.optional(),
  restorePoints: z.array(z.strictObject({ name: z.string(), time: isoTime, lsn: lsnText })),
});

export const backupManifestSchema = z.discriminatedUnion('type', [fullBackupManifestSchema, incrementManifestSchema]);

export type FullBackupManifest = z.infer<typeof fullBackupManifestSchema>;
export type IncrementManifest = z.infer<typeof incrementManifestSchema>;
export type BackupManifest = z.infer<typeof backupManifestSchema>;
