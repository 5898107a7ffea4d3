// The foundation's S3 acceptance, with real processes: 1 GiB through compress + encrypt (KMS data key) + S3
// multipart (moto) and back with equal SHA-256 and bounded memory; and an upload killed with SIGKILL leaves no
// listed object, only a multipart upload that the next run's cleanup aborts.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { CreateBucketCommand, ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { createStorage } from '../../src/storage/index.js';
import { MOTO_CREDENTIALS } from '../harness/moto.js';
import { ensureCliBuilt } from '../harness/wal-archiver-runner.js';

const CHILD = join(process.cwd(), 'tests', 'harness', 's3-pipeline-child.mjs');
const moto = inject('motoPrimary');
const bucket = `lb-large-${randomBytes(4).toString('hex')}`;
const s3 = new S3Client({ region: moto.region, endpoint: moto.endpoint, forcePathStyle: true, credentials: MOTO_CREDENTIALS });
let childEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  // The child runs the built code, as production does. Never rebuild unconditionally: other test files run
  // dist/ at the same time, and rewriting it under them breaks them.
  ensureCliBuilt();
  await s3.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: moto.region as 'eu-central-1' } }));
  const key = await new KMSClient({ region: moto.region, endpoint: moto.endpoint, credentials: MOTO_CREDENTIALS }).send(new CreateKeyCommand({}));
  childEnv = { ...process.env, LB_CHILD: JSON.stringify({ endpoint: moto.endpoint, region: moto.region, bucket, keyArn: key.KeyMetadata!.Arn, credentials: MOTO_CREDENTIALS }) };
}, 120_000);

function runChild(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, ...args], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`child exited ${code}: ${err}`))));
  });
}

describe('large objects on S3 + KMS', () => {
  it('round trips 1 GiB with equal SHA-256 in constant memory (peak RSS as for 128 MiB)', async () => {
    type Result = { sha256In: string; sha256Out: string; storedSizeBytes: number; maxRssBytes: number };
    const small = JSON.parse((await runChild(['round-trip', '128'])).trim()) as Result;
    const large = JSON.parse((await runChild(['round-trip', '1024'])).trim()) as Result;
    expect(small.sha256Out).toBe(small.sha256In);
    expect(large.sha256Out).toBe(large.sha256In);
    expect(large.storedSizeBytes).toBeLessThan(1024 * 1024 * 1024);
    // Memory does not grow with the object: 8x the data costs at most a few buffers more. Peaks of equal runs vary
    // by up to ~50 MB here (when the collections happen to run); keeping a tenth of the extra 896 MiB would add ~90.
    expect(large.maxRssBytes - small.maxRssBytes).toBeLessThan(64 * 1024 * 1024);
    // Measured 235-254 MB here on 2026-11-30 (128 MiB: ~241 MB; the peak comes early, whatever the size): ~86 MB of
    // node and the S3, KMS and Encryption SDKs before any byte moves, two zstd worker threads, 20 MiB of S3 parts in
    // flight, stream buffers, and the garbage V8 lets pile up (up to ~64 MB of released buffers before it collects).
    // It was 264-305 MB before the decoder took its input in shared blocks (zstd-decompress-stream.ts). A process
    // that only writes or only reads peaks lower (README "Measured numbers"); the foundation's 200 MB target is not
    // met by this one process that does both. This bound catches regressions.
    expect(large.maxRssBytes).toBeLessThan(300 * 1024 * 1024);
    console.log(`1 GiB S3 + KMS round trip: peak RSS ${(large.maxRssBytes / 1e6).toFixed(0)} MB (128 MiB: ${(small.maxRssBytes / 1e6).toFixed(0)} MB)`);
  }, 600_000);

  it('an upload killed with SIGKILL leaves no listed object; the next run aborts its multipart upload', async () => {
    const child = spawn(process.execPath, [CHILD, 'upload', '2048'], { env: childEnv, stdio: ['ignore', 'pipe', 'inherit'] });
    // Kill once at least one part is in S3 (the multipart upload exists).
    const deadline = Date.now() + 120_000;
    for (;;) {
      const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'large/object-upload' }));
      if ((uploads.Uploads ?? []).length > 0) break;
      if (Date.now() > deadline) throw new Error('the upload never started');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('close', resolve));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'large/object-upload' }));
    expect(listed.Contents ?? []).toEqual([]);
    const storage = createStorage({ driver: 's3', bucket, region: moto.region, endpoint: moto.endpoint, forcePathStyle: true, credentials: MOTO_CREDENTIALS, prefix: 'large/' });
    expect(await storage.cleanupIncompleteWrites(0)).toBeGreaterThanOrEqual(1);
    const after = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'large/object-upload' }));
    expect(after.Uploads ?? []).toEqual([]);
  }, 300_000);
});
