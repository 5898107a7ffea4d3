// Child process for the large S3 + KMS pipeline tests (runs the built dist/, so its RSS is production's):
//   round-trip SIZE_MIB: streams generated data through writeObject to S3 and back through readObject, and prints
//     { sha256In, sha256Out, storedSizeBytes, maxRssBytes } as JSON;
//   upload SIZE_MIB: writes only, printing "started" once data flows (the parent kills it mid-upload).
// Connection details come in LB_CHILD (JSON): endpoint, region, bucket, keyArn, credentials.
import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { tuneHeapForStreams } from '../../dist/compress/heap-tuning.js';

// First thing, as bin/lifeboat.js does; the rest loads after.
tuneHeapForStreams();
const { createAwsKmsKeyProvider } = await import('../../dist/crypto/aws-kms.js');
const { createDecryptionSession, createEncryptionSession } = await import('../../dist/crypto/index.js');
const { readObject, writeObject } = await import('../../dist/pipeline/index.js');
const { createStorage } = await import('../../dist/storage/index.js');

const [mode, sizeMiB] = process.argv.slice(2);
const setup = JSON.parse(process.env.LB_CHILD);
const storage = createStorage({ driver: 's3', bucket: setup.bucket, region: setup.region, endpoint: setup.endpoint, forcePathStyle: true, credentials: setup.credentials, prefix: 'large/' });
const keys = createAwsKmsKeyProvider({ keyId: setup.keyArn, region: setup.region, endpoint: setup.endpoint, credentials: setup.credentials });
const TEXT = Buffer.from('select abalance, bid, filler from pgbench_accounts where aid = $1; update tellers set tbalance = tbalance + 42; '.repeat(40000));

/** Deterministic-size, moderately compressible data (~2-3x): a random quarter, the rest text at random offsets. */
function generate(totalMiB, hash) {
  let produced = 0;
  return new Readable({
    read() {
      if (produced >= totalMiB) return this.push(null);
      const offset = randomBytes(4).readUInt32LE(0) % (TEXT.length - 786432);
      const block = Buffer.concat([randomBytes(262144), TEXT.subarray(offset, offset + 786432)]);
      hash.update(block);
      produced += 1;
      this.push(block);
    },
  });
}

const key = `object-${mode}`;
const hashIn = createHash('sha256');
const source = generate(Number(sizeMiB), hashIn);
if (mode === 'upload') {
  let announced = false;
  source.on('data', () => {
    if (!announced) {
      announced = true;
      process.stdout.write('started\n');
    }
  });
}
const session = createEncryptionSession(keys, { scope: { cluster: 'large', family: 'base', backupId: 'b1' } });
const stored = await writeObject({ storage, key, source, compression: { algorithm: 'zstd', level: 3 }, session });
session.close();
const sha256In = hashIn.digest('hex');
const hashOut = createHash('sha256');
const reader = createDecryptionSession(keys, {});
await pipeline(readObject({ storage, key, session: reader, expected: stored }), new Writable({ write: (chunk, _e, done) => (hashOut.update(chunk), done()) }));
reader.close();
process.stdout.write(`${JSON.stringify({ sha256In, sha256Out: hashOut.digest('hex'), storedSizeBytes: stored.storedSizeBytes, maxRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`);
