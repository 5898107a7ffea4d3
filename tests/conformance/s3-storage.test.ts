// Runs the storage conformance suite on the s3 driver against moto (a real S3 API server), one fresh bucket
// for this file and one fresh prefix per test, with 5 MiB parts and 10-key list pages so that multipart
// uploads and pagination are exercised by small tests. Plus the s3-only promises: prefix isolation, errors.
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  AbortMultipartUploadCommand,
  type BucketLocationConstraint,
  type S3Client,
} from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { isLifeboatError } from '../../src/errors/index.js';
import { createS3Client } from '../../src/storage/create-s3-client.js';
import { createS3Storage, type S3StorageOptions } from '../../src/storage/index.js';
import { MOTO_CREDENTIALS } from '../harness/moto.js';
import '../harness/provided-context.js';
import { describeStorageConformance } from './storage-conformance.js';

const moto = inject('motoPrimary');
const bucket = `lifeboat-storage-${randomUUID().slice(0, 8)}`;
let admin: S3Client;

/** Storage options pointing at this file's bucket on moto, under `prefix`. */
function motoOptions(prefix: string): S3StorageOptions {
  return {
    bucket,
    region: moto.region,
    prefix,
    endpoint: moto.endpoint,
    forcePathStyle: true,
    credentials: MOTO_CREDENTIALS,
    partSizeBytes: 5 * 1024 * 1024,
    queueSize: 2,
    listPageSize: 10,
  };
}

/** Deletes every object and aborts every upload under `prefix`, straight through the SDK. */
async function emptyPrefix(prefix: string): Promise<void> {
  const listed = await admin.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  const objects = (listed.Contents ?? []).map((item) => ({ Key: item.Key }));
  if (objects.length > 0) await admin.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects } }));
  const uploads = await admin.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
  for (const upload of uploads.Uploads ?? []) {
    await admin.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key, UploadId: upload.UploadId }));
  }
}

beforeAll(async () => {
  admin = createS3Client({ region: moto.region, endpoint: moto.endpoint, forcePathStyle: true, credentials: MOTO_CREDENTIALS });
  const location = moto.region as BucketLocationConstraint;
  await admin.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: location } }));
});

describeStorageConformance('s3 (moto)', async () => {
  const prefix = `repo-${randomUUID()}/`;
  return {
    storage: createS3Storage(motoOptions(prefix)),
    async leaveIncompleteWrite(key: string) {
      // What a killed writer leaves: a multipart upload that was started and never completed or aborted.
      await admin.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: prefix + key }));
    },
    // moto's ListMultipartUploads reports every upload as initiated at 2010-11-10T20:48:33Z.
    knowsIncompleteWriteAge: false,
    // moto (5.2.5) serves requests on threads and its PutObject checks If-None-Match (responses.py put_object:
    // get_object(...) is not None -> 412) before, and apart from, storing the key (models.py put_object), with no
    // lock across both: two racing writers can both pass the check and both get 200 (seen once under load). S3
    // itself evaluates the condition atomically: the first write to finish wins, the rest get 412. Lifeboat
    // sends If-None-Match: * on every create-only PutObject and CompleteMultipartUpload, and takes a 412 as its
    // own success only on a retried attempt whose stored ETag is the MD5 of its own bytes (s3-lost-response.ts).
    atomicCreateOnly: false,
    cleanup: () => emptyPrefix(prefix),
  };
});

describe('s3 storage specifics', () => {
  it('keeps repositories under different prefixes apart and strips the prefix from listed keys', async () => {
    const first = createS3Storage(motoOptions(`iso-${randomUUID()}/one`));
    const second = createS3Storage(motoOptions(`iso-${randomUUID()}/two/`));
    await first.put('shared/key', Buffer.from('first'));
    await second.put('shared/key', Buffer.from('second'));
    const keys: string[] = [];
    for await (const object of first.list('')) keys.push(object.key);
    expect(keys).toEqual(['shared/key']);
    expect(first.location).toMatch(/^s3:\/\/lifeboat-storage-[0-9a-f]{8}\/iso-.*\/one\/$/);
    await first.delete(['shared/key']);
    expect(await second.head('shared/key')).toBeDefined();
  });

  it('deletes more keys than one DeleteObjects request takes', async () => {
    const storage = createS3Storage(motoOptions(`bulk-${randomUUID()}/`));
    const keys = Array.from({ length: 1005 }, (_, index) => `k/${String(index).padStart(4, '0')}`);
    await Promise.all(keys.slice(995).map((key) => storage.put(key, Buffer.from('x'))));
    await storage.delete(keys);
    for await (const object of storage.list('')) expect.fail(`still listed: ${object.key}`);
  });

  it('reports a missing bucket as storageUnavailable', async () => {
    const storage = createS3Storage({ ...motoOptions(''), bucket: `missing-${randomUUID().slice(0, 8)}` });
    const error = await storage.put('k', Buffer.from('x')).catch((rejection: unknown) => rejection);
    expect(isLifeboatError(error, 'storageUnavailable')).toBe(true);
    expect(String(error)).toContain('does not exist');
  });

  it('reports an unreachable endpoint as storageUnavailable with a hint naming it', async () => {
    const endpoint = 'http://127.0.0.1:9';
    const storage = createS3Storage({ ...motoOptions(''), endpoint, maxAttempts: 2 });
    const error = await storage.get('k').catch((rejection: unknown) => rejection);
    expect(isLifeboatError(error, 'storageUnavailable')).toBe(true);
    if (isLifeboatError(error)) {
      expect(error.message).toContain(endpoint);
      expect(error.hint).toContain(endpoint);
    }
  });

  it('rejects part sizes S3 would refuse', () => {
    expect(() => createS3Storage({ ...motoOptions(''), partSizeBytes: 1024 })).toThrow(/partSizeBytes/);
  });
});
