// A moto server (S3 + KMS) for the S3 leg of the pipeline benchmark: one bucket and one KMS key, as a cloud
// repository would have. Objects live in moto's memory; the tasks delete them after reading.
import { CreateBucketCommand, type BucketLocationConstraint } from '@aws-sdk/client-s3';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { createKmsClient } from '../../src/crypto/aws-kms.js';
import { createS3Client } from '../../src/storage/create-s3-client.js';
import { MOTO_CREDENTIALS, startMoto } from '../../tests/harness/moto.js';
import type { BenchKeys, BenchTarget } from '../tasks/open-bench-target.js';

export interface BenchMoto {
  target: BenchTarget;
  keys: BenchKeys;
  stop(): Promise<void>;
}

export async function startBenchMoto(): Promise<BenchMoto> {
  const moto = await startMoto();
  const credentials = { ...MOTO_CREDENTIALS };
  const bucket = 'lifeboat-bench';
  const s3 = createS3Client({ region: moto.region, endpoint: moto.endpoint, forcePathStyle: true, credentials });
  const kms = createKmsClient({ region: moto.region, endpoint: moto.endpoint, credentials });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: moto.region as BucketLocationConstraint } }));
    const keyId = (await kms.send(new CreateKeyCommand({ Description: 'lifeboat bench' }))).KeyMetadata?.Arn ?? '';
    return {
      target: { driver: 's3', endpoint: moto.endpoint, region: moto.region, bucket, prefix: 'bench/', credentials },
      keys: { provider: 'aws-kms', keyId, endpoint: moto.endpoint, region: moto.region, credentials },
      stop: () => moto.stop(),
    };
  } catch (error) {
    await moto.stop();
    throw error;
  } finally {
    s3.destroy();
    kms.destroy();
  }
}
