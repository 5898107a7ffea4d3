// Builds the storage driver and key provider a pipeline task writes through, from plain JSON parameters the
// parent passes to the child process.
import { createAwsKmsKeyProvider } from '../../src/crypto/aws-kms.js';
import { createLocalKeyProvider, type KeyProvider } from '../../src/crypto/index.js';
import { createStorage, type Storage } from '../../src/storage/index.js';

/** Where objects go: an fs repository folder, or a bucket prefix on an S3 endpoint (moto). */
export type BenchTarget =
  | { driver: 'fs'; path: string }
  | { driver: 's3'; endpoint: string; region: string; bucket: string; prefix: string; credentials: { accessKeyId: string; secretAccessKey: string } };

/** Which key wraps the data key: a local key file, or a KMS key on an endpoint (moto). */
export type BenchKeys =
  | { provider: 'local'; path: string }
  | { provider: 'aws-kms'; keyId: string; endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } };

export function openBenchStorage(target: BenchTarget): Storage {
  if (target.driver === 'fs') return createStorage({ driver: 'fs', path: target.path });
  return createStorage({ driver: 's3', bucket: target.bucket, region: target.region, endpoint: target.endpoint, forcePathStyle: true, credentials: target.credentials, prefix: target.prefix });
}

export async function openBenchKeys(keys: BenchKeys): Promise<KeyProvider> {
  if (keys.provider === 'local') return createLocalKeyProvider({ path: keys.path, createIfMissing: true });
  return createAwsKmsKeyProvider({ keyId: keys.keyId, region: keys.region, endpoint: keys.endpoint, credentials: keys.credentials });
}
