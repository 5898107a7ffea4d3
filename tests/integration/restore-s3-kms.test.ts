// Disaster recovery from S3 with KMS keys (moto): a backup and its WAL stored in a bucket, every data key wrapped
// by a KMS key; the source is then deleted, and a restore that knows only the bucket and the key brings back every
// commit that reached the repository. PostgreSQL's restore_command (`lifeboat wal fetch`, run as the PostgreSQL OS
// user) reads the bucket and asks KMS itself, with the credentials in the restore's 0600 fetch config.
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, S3Client, type BucketLocationConstraint } from '@aws-sdk/client-s3';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MOTO_CREDENTIALS } from '../harness/moto.js';
import type { RestoreRunner } from '../harness/restore-runner.js';
import { startRestoreSource, type RestoreSource } from '../harness/restore-source.js';
import { ensureCliBuilt } from '../harness/wal-archiver-runner.js';

const moto = inject('motoPrimary');
const bucket = `lb-dr-${randomBytes(4).toString('hex')}`;
let source: RestoreSource;
let runner: RestoreRunner;
/** What the source held once its WAL was archived: the restore must hold exactly this. */
let sourceIds: number[];

beforeAll(async () => {
  ensureCliBuilt();
  const s3 = new S3Client({ region: moto.region, endpoint: moto.endpoint, forcePathStyle: true, credentials: MOTO_CREDENTIALS });
  await s3.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: moto.region as BucketLocationConstraint } }));
  const key = await new KMSClient({ region: moto.region, endpoint: moto.endpoint, credentials: MOTO_CREDENTIALS }).send(new CreateKeyCommand({}));
  // The config refers to the credentials, as a production config must; the fixture resolves them from here.
  process.env.LB_TEST_AWS_ACCESS_KEY_ID = MOTO_CREDENTIALS.accessKeyId;
  process.env.LB_TEST_AWS_SECRET_ACCESS_KEY = MOTO_CREDENTIALS.secretAccessKey;
  const credentials = { accessKeyId: { env: 'LB_TEST_AWS_ACCESS_KEY_ID' }, secretAccessKey: { env: 'LB_TEST_AWS_SECRET_ACCESS_KEY' } };
  source = await startRestoreSource({
    fixture: {
      overrides: {
        repository: { driver: 's3', bucket, region: moto.region, endpoint: moto.endpoint, forcePathStyle: true, prefix: 'prod/', credentials },
        encryption: { provider: 'aws-kms', keyId: key.KeyMetadata!.Arn!, region: moto.region, endpoint: moto.endpoint, credentials },
      },
    },
  });
  const { pg } = source;
  runner = source.restoreRunner();
  await source.fullBackup();
  await pg.query(`insert into pgbench_history (tid, bid, aid, delta, mtime) select 1, 1, g, g, now() from generate_series(1, 500) g`);
  await pg.query('select pg_switch_wal()');
  await pg.query(`insert into pgbench_history (tid, bid, aid, delta, mtime) select 1, 1, g, -g, now() from generate_series(1, 20) g`);
  sourceIds = await source.archiveAllAndStop();
  await pg.stop();
}, 240_000);

afterAll(async () => {
  await runner?.stopAll();
  await source?.stop();
});

describe('restore from S3 with KMS keys', () => {
  it('--latest, with the source gone, holds every commit whose WAL reached the bucket', async () => {
    const restored = await runner.restore({ name: 'latest', latest: true, start: true });
    try {
      expect(restored.result.reached?.state).toBe('promoted');
      expect(restored.result.plan.missing).toEqual([]);
      // The newest commits were only in the head segment: a partial upload carried them.
      expect(restored.result.plan.wal.at(-1)?.source).toBe('partial');
      expect(await runner.historyIds(restored)).toEqual(sourceIds);
      expect(sourceIds.length).toBe(520);
    } finally {
      await runner.stop(restored);
    }
  });
});
