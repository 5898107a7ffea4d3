// The configuration file's shape, validated with zod: one schema per section so later sections (replicas,
// schedules, retention, drills, lifecycle) slot in as new keys. Descriptions feed the README reference.
import { z } from 'zod';
import { describeCronProblem, isKnownTimeZone } from './cron-schedule.js';
import { secretReferenceSchema } from './secret-reference.js';

const clusterName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'cluster names are 1-63 characters of a-z, 0-9, "_" and "-", starting with a letter or digit')
  .describe('Cluster name; names its folder in the repository, so it must never change.');

const awsCredentialsSchema = z
  .strictObject({
    accessKeyId: secretReferenceSchema.meta({ valueType: 'secret reference', description: 'AWS access key id.' }),
    secretAccessKey: secretReferenceSchema.meta({ valueType: 'secret reference', description: 'AWS secret access key.' }),
    sessionToken: secretReferenceSchema.optional().meta({ valueType: 'secret reference', description: 'AWS session token.' }),
  })
  .describe('Static AWS credentials (secret references). Default: the standard AWS credential chain.');

export const postgresSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1').describe('Server host name or address.'),
  port: z.number().int().min(1).max(65535).default(5432).describe('Server port.'),
  user: z.string().min(1).describe('Role to connect as; needs LOGIN, REPLICATION and the grants listed under "PostgreSQL role" (`lifeboat check` probes them).'),
  dbname: z.string().min(1).default('postgres').describe('Database for SQL connections.'),
  password: secretReferenceSchema.optional().meta({
    valueType: 'secret reference',
    description: 'Password. Default: none (trust/peer auth, or the OS user\'s own ~/.pgpass).',
  }),
  sslmode: z
    .enum(['disable', 'prefer', 'require', 'verify-ca', 'verify-full'])
    .default('prefer')
    .describe('TLS mode, as libpq\'s sslmode.'),
  sslrootcert: z.string().optional().describe('CA certificate file for verify-ca / verify-full.'),
  bindir: z
    .string()
    .optional()
    .describe('Folder of the PostgreSQL client programs (pg_basebackup, pg_receivewal). Default: `pg_config --bindir`.'),
});

const slotName = z.string().regex(/^[a-z0-9_]{1,63}$/, 'slot names are 1-63 characters of a-z, 0-9 and "_"');

export const walSchema = z.strictObject({
  slotName: slotName.default('lifeboat').describe('Physical replication slot pg_receivewal streams from; created if missing.'),
  guardSlotName: slotName
    .default('lifeboat_guard')
    .describe('Inactive slot advanced only past WAL durably stored in the repository, so the server keeps the rest.'),
  partialUploadIntervalSeconds: z
    .number()
    .int()
    .min(5)
    .max(3600)
    .default(60)
    .describe('How often the growing head segment is uploaded as a partial; the archive trails the primary by at most this.'),
  archiveTimeoutSeconds: z
    .number()
    .int()
    .min(10)
    .default(600)
    .describe('How long a full backup waits for the WAL it needs to reach the repository before failing.'),
  slotRetentionWarnMiB: z
    .number()
    .int()
    .min(1)
    .default(1024)
    .describe('`lifeboat check` warns when a Lifeboat slot keeps more WAL than this (MiB) on the server: an archiver stopped or far behind.'),
});

export const backupSchema = z.strictObject({
  checkpoint: z.enum(['fast', 'spread']).default('fast').describe('Checkpoint mode at backup start (pg_basebackup -c).'),
  partSizeMiB: z
    .number()
    .int()
    .min(1)
    .max(4096)
    .default(256)
    .describe('The base backup tar stream is cut into parts of about this size, restored in parallel.'),
});

export const drillTargetsSchema = z.strictObject({
  rpoSeconds: z
    .number()
    .positive()
    .default(3600)
    .describe('Most data (seconds) a drill may find lost: D minus the newest heartbeat the restored server holds. Default: the readiness plan\'s 1 h.'),
  rtoSeconds: z
    .number()
    .positive()
    .default(14_400)
    .describe('Longest a drill\'s restore may take (seconds): D until the restored server is promoted and answers. Default: the readiness plan\'s 4 h.'),
});

export const drillSchema = z.strictObject({
  heartbeatSeconds: z
    .number()
    .int()
    .min(0)
    .max(3600)
    .default(10)
    .describe('How often a daemon writes a row into `lifeboat.heartbeat` on the primary, which drills measure RPO by; 0 leaves the table out (RPO then comes from commit timestamps, if tracked).'),
  targets: drillTargetsSchema.default(drillTargetsSchema.parse({})).describe('The RPO and RTO a drill must meet to pass.'),
  scenario: z
    .string()
    .min(1)
    .optional()
    .describe('Scenario file scheduled drills run (relative to the config file), e.g. drills/latest.yaml. Default: the built-in latest scenario.'),
});

/** The job kinds the daemon runs, which are also the schedule keys; src/jobs/job-kinds.ts implements each. */
export const JOB_KIND_NAMES = ['full', 'diff', 'incr', 'verify', 'drill'] as const;
export type JobKindName = (typeof JOB_KIND_NAMES)[number];
/**
 * What a daemon may take (`daemon.jobs`): the job kinds, and `archive` (be willing to run the cluster's WAL archiver,
 * one per cluster elected through a Redis lease). `archive` is not in the default: taking it terminates the
 * walsender of any `lifeboat wal archive` already streaming on the slot, so an upgrade must opt in on purpose.
 */
export const DAEMON_ROLE_NAMES = [...JOB_KIND_NAMES, 'archive'] as const;
export type DaemonRoleName = (typeof DAEMON_ROLE_NAMES)[number];

const cronField = (what: string): z.ZodOptional<z.ZodString> =>
  z
    .string()
    .min(1)
    .optional()
    .describe(`Cron schedule of ${what}: 5 fields (minute hour day month weekday) or 6 with leading seconds, in \`schedules.timezone\`. Default: none (on demand only).`);

export const clusterSchedulesSchema = z.strictObject({
  full: cronField('full base backups'),
  diff: cronField('differential backups (today: sealing the archived WAL, as `incr`)'),
  incr: cronField('incremental backups (`backup incr`: sealing the archived WAL into a restore point)'),
  verify: cronField('verification of the backups and their WAL'),
  drill: cronField('restore drills (`drill run` with `drill.scenario`), by the daemons that take the `drill` job kind'),
});

export const clusterSchema = z.strictObject({
  name: clusterName,
  postgres: postgresSchema.describe('How to reach the cluster\'s primary.'),
  wal: walSchema.default(walSchema.parse({})).describe('Continuous WAL archiving.'),
  backup: backupSchema.default(backupSchema.parse({})).describe('Full base backups.'),
  schedules: clusterSchedulesSchema.default({}).describe('When the daemon runs each job kind for this cluster.'),
  drill: drillSchema.default(drillSchema.parse({})).describe('Restore drills: the heartbeat they measure RPO by, and the targets they must meet.'),
});

/** Default of `restore.prefetchWindowMiB`; see the restore measurements in README.md. */
export const DEFAULT_PREFETCH_WINDOW_MIB = 256;

export const restoreSchema = z.strictObject({
  prefetchWindowMiB: z
    .number()
    .int()
    .min(0)
    .max(1_048_576)
    .default(DEFAULT_PREFETCH_WINDOW_MIB)
    .describe(
      'How far (MiB of WAL segment files) a restore downloads WAL ahead of replay, into `<target>.lifeboat-restore/prefetch/`: the most disk it takes beside the data directory. Without `--start` only this much is prefetched; the rest is fetched by `restore_command` as replay asks. 0 turns prefetching off.',
    ),
});

export const redisSchema = z.strictObject({
  url: z
    .string()
    .regex(/^rediss?:\/\/[^\s]+$/, 'a Redis URL starts with redis:// (or rediss:// for TLS)')
    .describe('Redis the daemons share (queues, schedules, locks), e.g. redis://127.0.0.1:6379/0; rediss:// for TLS.'),
  password: secretReferenceSchema.optional().meta({ valueType: 'secret reference', description: 'Redis password (AUTH). Default: none.' }),
  prefix: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'a prefix is 1-64 characters of A-Z, a-z, 0-9, "_" and "-"')
    .default('lifeboat')
    .describe('Prefix of every Redis key, so several installations can share one Redis.'),
});

export const daemonSchema = z.strictObject({
  listen: z
    .string()
    .regex(/^[^\s:]+:\d{1,5}$/, 'write HOST:PORT, e.g. 127.0.0.1:9187')
    .default('127.0.0.1:9187')
    .describe('HOST:PORT of the daemon\'s HTTP endpoints (/healthz, /readyz); port 0 picks a free one.'),
  shutdownTimeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(86_400)
    .default(60)
    .describe('On SIGTERM/SIGINT, how long (seconds) a running job may finish before it is aborted and cleaned up.'),
  lockLeaseSeconds: z
    .number()
    .int()
    .min(3)
    .max(600)
    .default(30)
    .describe('Lease (seconds) of a cluster lock, renewed while its job runs; a crashed holder\'s lock frees after this.'),
  jobs: z
    .array(z.enum(DAEMON_ROLE_NAMES))
    .min(1)
    .default(['full', 'diff', 'incr', 'verify'])
    .describe('Job kinds this daemon takes, and `archive` to be willing to run the WAL archiver of the clusters it serves (one daemon per cluster is elected). `drill` restores into a scratch PostgreSQL server, so it usually runs on a separate drill host (`jobs: [drill]`) with the server programs and the disk a restore needs. Default: full, diff, incr, verify (not `drill`, not `archive`).'),
  archiverLeaseSeconds: z
    .number()
    .int()
    .min(3)
    .max(600)
    .default(15)
    .describe('Lease (seconds) electing the daemon that archives a cluster\'s WAL, renewed every third of it; a dead or frozen holder is replaced after about this long.'),
  clusters: z
    .array(clusterName)
    .min(1)
    .optional()
    .describe('Clusters this daemon serves (a backup reading the data directory runs on the database host). Default: all.'),
});

export const schedulesSchema = z.strictObject({
  timezone: z
    .string()
    .default('UTC')
    .refine(isKnownTimeZone, { message: 'unknown time zone; use an IANA name such as UTC or Europe/Paris' })
    .describe('Time zone the cron schedules are read in (IANA name).'),
});

export const fsRepositorySchema = z.strictObject({
  driver: z.literal('fs').describe('A local (or mounted) folder.'),
  path: z.string().min(1).describe('Repository folder; relative paths are relative to the config file.'),
});

export const s3RepositorySchema = z.strictObject({
  driver: z.literal('s3').describe('An S3 bucket, or any S3-compatible store.'),
  bucket: z.string().min(3).max(63).describe('Bucket name.'),
  region: z.string().min(1).describe('Bucket region, e.g. eu-central-1.'),
  prefix: z
    .string()
    .regex(/^$|^[^/].*\/$/, 'a prefix must not start with "/" and must end with "/" (or be empty)')
    .default('')
    .describe('Key prefix inside the bucket, ending in "/".'),
  endpoint: z.url().optional().describe('Custom endpoint for S3-compatible stores. Default: AWS.'),
  forcePathStyle: z.boolean().default(false).describe('Path-style addressing (most S3-compatible stores need it).'),
  credentials: awsCredentialsSchema.optional(),
  partSizeMiB: z.number().int().min(5).max(512).default(5).describe('Multipart part size in MiB; memory per upload is about 5x this (4 parts in flight, 1 filling).'),
});

export const repositorySchema = z
  .discriminatedUnion('driver', [fsRepositorySchema, s3RepositorySchema])
  .describe('Where backups are stored.');

export const localEncryptionSchema = z.strictObject({
  provider: z.literal('local').describe('A 256-bit key in a local file (embedded default, tests, drills).'),
  keyFile: z.string().min(1).describe('Key file; created with mode 0600 only for an empty repository (first write, or repository init). Relative to the config file.'),
});

export const kmsEncryptionSchema = z.strictObject({
  provider: z.literal('aws-kms').describe('AWS KMS envelope encryption.'),
  keyId: z.string().min(1).describe('KMS key id, alias (alias/...) or ARN.'),
  region: z.string().min(1).describe('KMS region.'),
  endpoint: z.url().optional().describe('Custom KMS endpoint. Default: AWS.'),
  credentials: awsCredentialsSchema.optional(),
});

export const encryptionSchema = z
  .discriminatedUnion('provider', [localEncryptionSchema, kmsEncryptionSchema])
  .describe('How data keys are made and wrapped.');

export const compressionSchema = z.strictObject({
  algorithm: z.enum(['zstd', 'gzip', 'none']).default('zstd').describe('Compression for new objects.'),
  level: z.number().int().min(1).max(19).default(3).describe('Compression level (zstd 1-19, gzip 1-9).'),
});

export const configSchema = z
  .strictObject({
    clusters: z
      .array(clusterSchema)
      .default([])
      .describe('PostgreSQL clusters to protect. Default: none, a restore-only config (restore, `backups list` and `verify` need only repository and encryption).'),
    repository: repositorySchema,
    encryption: encryptionSchema,
    stateDir: z
      .string()
      .min(1)
      .default('./var/state')
      .describe('Local working folder (WAL spool, pid files); relative to the config file. Never needed for a restore.'),
    compression: compressionSchema.default({ algorithm: 'zstd', level: 3 }).describe('Compression of stored objects.'),
    restore: restoreSchema.default(restoreSchema.parse({})).describe('Point-in-time restores (`lifeboat restore`).'),
    log: z
      .strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info').describe('Minimum log level.') })
      .default({ level: 'info' })
      .describe('Logging.'),
    redis: redisSchema.optional().describe('Redis shared by the daemons. Required by `lifeboat daemon`, `jobs` and `status`.'),
    daemon: daemonSchema.default(daemonSchema.parse({})).describe('The daemon (`lifeboat daemon`): placement, HTTP, shutdown.'),
    schedules: schedulesSchema.default({ timezone: 'UTC' }).describe('Settings shared by every cluster\'s schedules.'),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.clusters.forEach((cluster, index) => {
      if (seen.has(cluster.name)) {
        ctx.addIssue({ code: 'custom', path: ['clusters', index, 'name'], message: `duplicate cluster name "${cluster.name}"` });
      }
      seen.add(cluster.name);
    });
    // Cron expressions are read in the configured zone; a zone already refused needs no second error per schedule.
    if (isKnownTimeZone(config.schedules.timezone)) {
      config.clusters.forEach((cluster, index) => {
        for (const kind of JOB_KIND_NAMES) {
          const expression = cluster.schedules[kind];
          const problem = expression === undefined ? undefined : describeCronProblem(expression, config.schedules.timezone);
          if (problem) ctx.addIssue({ code: 'custom', path: ['clusters', index, 'schedules', kind], message: problem });
        }
      });
    }
    const names = new Set(config.clusters.map((cluster) => cluster.name));
    (config.daemon.clusters ?? []).forEach((name, index) => {
      if (!names.has(name)) ctx.addIssue({ code: 'custom', path: ['daemon', 'clusters', index], message: `no cluster named "${name}" is configured` });
    });
    if (config.compression.algorithm === 'gzip' && config.compression.level > 9) {
      ctx.addIssue({ code: 'custom', path: ['compression', 'level'], message: 'gzip levels are 1-9' });
    }
  });

/** The configuration as written (secrets still references), after validation and defaults. */
export type Config = z.output<typeof configSchema>;
export type ClusterConfig = Config['clusters'][number];
export type PostgresConfig = ClusterConfig['postgres'];
export type RepositoryConfig = Config['repository'];
export type EncryptionConfig = Config['encryption'];
export type CompressionConfig = Config['compression'];
export type WalConfig = ClusterConfig['wal'];
export type BackupConfig = ClusterConfig['backup'];
export type RedisConfig = NonNullable<Config['redis']>;
export type DaemonConfig = Config['daemon'];
export type ClusterSchedules = ClusterConfig['schedules'];
export type DrillConfig = ClusterConfig['drill'];
