// The object pipeline end to end on the real peers (moto): S3 storage with multipart uploads and KMS data keys.
// The stored checksum equals SHA-256 of the bytes S3 holds, objects read back verified, a tampered S3 object is
// reported as corrupted, and an aborted write leaves neither an object nor a multipart upload behind.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  type BucketLocationConstraint,
  type S3Client,
} from '@aws-sdk/client-s3';
import { CreateKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { shutdownZstdPool } from '../../src/compress/index.js';
import { createAwsKmsKeyProvider, createKmsClient } from '../../src/crypto/aws-kms.js';
import { createDecryptionSession, createEncryptionSession, type KeyProvider } from '../../src/crypto/index.js';
import { isLifeboatError } from '../../src/errors/index.js';
import { readObject, writeObject } from '../../src/pipeline/index.js';
import { createS3Client } from '../../src/storage/create-s3-client.js';
import { createS3Storage } from '../../src/storage/index.js';
import type { Storage } from '../../src/storage/storage.js';
import { MOTO_CREDENTIALS } from '../harness/moto.js';
import '../harness/provided-context.js';

const MIB = 1024 * 1024;
const moto = inject('motoPrimary');
const bucket = `lifeboat-pipeline-${randomUUID().slice(0, 8)}`;
const prefix = `repo-${randomUUID()}/`;
const scope = { cluster: 'pipeline-it', family: 'base', backupId: 'b1' } as const;
let s3: S3Client;
let kms: KMSClient;
let provider: KeyProvider;
let storage: Storage;

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Text-like rows with random bytes mixed in: compresses, but not to nothing. */
function content(sizeBytes: number): Buffer {
  const data = Buffer.alloc(sizeBytes);
  for (let offset = 0, row = 0; offset < sizeBytes; row++) {
    offset += data.write(`${row},${randomBytes(6).toString('hex')},lifeboat pipeline row\n`, offset);
  }
  return data;
}

async function s3Bytes(key: string): Promise<Buffer> {
  const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}${key}` }));
  return Buffer.from(await answer.Body?.transformToByteArray() ?? []);
}

beforeAll(async () => {
  s3 = createS3Client({ region: moto.region, endpoint: moto.endpoint, forcePathStyle: true, credentials: MOTO_CREDENTIALS });
  await s3.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: moto.region as BucketLocationConstraint } }));
  kms = createKmsClient({ region: moto.region, endpoint: moto.endpoint, credentials: MOTO_CREDENTIALS });
  const keyArn = (await kms.send(new CreateKeyCommand({ Description: 'lifeboat pipeline-s3-kms' }))).KeyMetadata?.Arn ?? '';
  provider = createAwsKmsKeyProvider({ keyId: keyArn, region: moto.region, endpoint: moto.endpoint, credentials: MOTO_CREDENTIALS });
  storage = createS3Storage({
    bucket,
    region: moto.region,
    prefix,
    endpoint: moto.endpoint,
    forcePathStyle: true,
    credentials: MOTO_CREDENTIALS,
    partSizeBytes: 5 * MIB,
    queueSize: 2,
  });
});
afterAll(async () => {
  provider.close();
  kms.destroy();
  s3.destroy();
  await shutdownZstdPool();
});

describe('pipeline on S3 + KMS (moto)', () => {
  it('stores a multipart object whose checksums match the content and the bytes in S3, and reads it back', async () => {
    const data = Buffer.concat([content(12 * MIB), randomBytes(12 * MIB)]);
    const session = createEncryptionSession(provider, { scope });
    const record = await writeObject({ storage, key: 'base/b1/part-1', source: Readable.from([data]), compression: { algorithm: 'zstd' }, session, createOnly: true });
    const stored = await s3Bytes('base/b1/part-1');
    expect(stored.length).toBeGreaterThan(5 * MIB);
    expect(record.storedSizeBytes).toBe(stored.length);
    expect(record.storedSha256).toBe(sha256(stored));
    expect(record.plaintextSha256).toBe(sha256(data));
    const restored = await collect(readObject({ storage, key: record.key, session: createDecryptionSession(provider), expected: record, expectedScope: scope }));
    expect(restored.equals(data)).toBe(true);
  });

  it('reports a tampered S3 object as corrupted', async () => {
    const session = createEncryptionSession(provider, { scope });
    const record = await writeObject({ storage, key: 'base/b1/tampered', source: Readable.from([content(3 * MIB)]), compression: { algorithm: 'zstd' }, session });
    const stored = await s3Bytes('base/b1/tampered');
    const middle = Math.floor(stored.length / 2);
    stored.writeUInt8(stored.readUInt8(middle) ^ 0x04, middle);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}base/b1/tampered`, Body: stored }));
    const error = await collect(readObject({ storage, key: record.key, session: createDecryptionSession(provider) })).catch((e: unknown) => e);
    expect(isLifeboatError(error, 'objectCorrupted')).toBe(true);
    expect((error as Error).message).toContain('base/b1/tampered');
  });

  it('leaves neither object nor multipart upload behind when a write is aborted', async () => {
    const controller = new AbortController();
    const source = Readable.from((async function* () {
      for (let i = 0; i < 64; i++) {
        if (i === 12) controller.abort();
        yield randomBytes(MIB);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })());
    const session = createEncryptionSession(provider, { scope });
    const error = await writeObject({ storage, key: 'base/b1/aborted', source, compression: { algorithm: 'zstd' }, session, signal: controller.signal })
      .catch((e: unknown) => e);
    expect(isLifeboatError(error, 'aborted')).toBe(true);
    expect(await storage.head('base/b1/aborted')).toBeUndefined();
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: `${prefix}base/b1/aborted` }));
    expect(uploads.Uploads ?? []).toEqual([]);
  });
});
