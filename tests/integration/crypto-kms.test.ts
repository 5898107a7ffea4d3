// The aws-kms key provider against a real KMS API (moto): objects round trip through the pipeline, a session makes
// ONE GenerateDataKey and a restore ONE Decrypt however many objects there are, aliases resolve once, and wrong
// or missing keys, altered data keys and an unreachable endpoint each end in their own error.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { CreateAliasCommand, CreateKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { shutdownZstdPool } from '../../src/compress/index.js';
import { createAwsKmsKeyProvider, createKmsClient, type AwsKmsKeyProviderOptions } from '../../src/crypto/aws-kms.js';
import { createDecryptionSession, createEncryptionSession, type KeyProvider, type KmsOperation } from '../../src/crypto/index.js';
import { isLifeboatError, type LifeboatError } from '../../src/errors/index.js';
import { readObject, writeObject, type StoredObject } from '../../src/pipeline/index.js';
import { createFsStorage } from '../../src/storage/fs-storage.js';
import type { Storage } from '../../src/storage/storage.js';
import { freePort } from '../harness/free-port.js';
import { MOTO_CREDENTIALS } from '../harness/moto.js';
import '../harness/provided-context.js';

const moto = inject('motoPrimary');
const scope = { cluster: 'kms-test', family: 'base', backupId: randomBytes(4).toString('hex') } as const;
let admin: KMSClient;
let keyArn: string;
let otherKeyArn: string;
let alias: string;
let root: string;
let storage: Storage;

/** A provider on moto whose KMS requests are counted by operation. */
function countedProvider(options: Partial<AwsKmsKeyProviderOptions> = {}): KeyProvider & { calls: Partial<Record<KmsOperation, number>> } {
  const calls: Partial<Record<KmsOperation, number>> = {};
  const provider = createAwsKmsKeyProvider({
    keyId: keyArn,
    region: moto.region,
    endpoint: moto.endpoint,
    credentials: MOTO_CREDENTIALS,
    onRequest: (operation) => {
      calls[operation] = (calls[operation] ?? 0) + 1;
    },
    ...options,
  });
  return Object.assign(provider, { calls });
}

async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function writeMany(provider: KeyProvider, count: number): Promise<{ record: StoredObject; data: Buffer }[]> {
  const session = createEncryptionSession(provider, { scope });
  const written = [];
  for (let i = 0; i < count; i++) {
    const data = Buffer.concat([randomBytes(100_000), Buffer.alloc(200_000, i)]);
    const record = await writeObject({ storage, key: `base/${scope.backupId}/file-${i}`, source: Readable.from([data]), compression: { algorithm: 'zstd' }, session });
    written.push({ record, data });
  }
  session.close();
  return written;
}

async function readError(provider: KeyProvider, key: string): Promise<LifeboatError> {
  const error = await collect(readObject({ storage, key, session: createDecryptionSession(provider) })).then(() => undefined, (e: unknown) => e);
  expect(isLifeboatError(error), String(error)).toBe(true);
  expect((error as Error).message).toContain(key);
  return error as LifeboatError;
}

beforeAll(async () => {
  admin = createKmsClient({ region: moto.region, endpoint: moto.endpoint, credentials: MOTO_CREDENTIALS });
  keyArn = (await admin.send(new CreateKeyCommand({ Description: 'lifeboat crypto-kms test' }))).KeyMetadata?.Arn ?? '';
  otherKeyArn = (await admin.send(new CreateKeyCommand({ Description: 'lifeboat crypto-kms other' }))).KeyMetadata?.Arn ?? '';
  alias = `alias/lifeboat-${scope.backupId}`;
  await admin.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: keyArn }));
  expect(keyArn).toMatch(/^arn:aws:kms:/);
});
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'lifeboat-kms-'));
  storage = createFsStorage({ path: root });
  return () => rm(root, { recursive: true, force: true });
});
afterAll(async () => {
  admin.destroy();
  await shutdownZstdPool();
});

describe('aws-kms key provider (moto)', () => {
  it('round trips objects with one GenerateDataKey per session and one Decrypt per restore', async () => {
    const writer = countedProvider();
    const written = await writeMany(writer, 6);
    expect(writer.calls).toEqual({ GenerateDataKey: 1 });
    for (const { record } of written) expect(record.encryption).toEqual({ provider: 'aws-kms', keyId: keyArn });

    const reader = countedProvider();
    const session = createDecryptionSession(reader, { expectedScope: { cluster: scope.cluster } });
    for (const { record, data } of written) {
      const restored = await collect(readObject({ storage, key: record.key, session, expected: record, expectedScope: { backupId: scope.backupId } }));
      expect(restored.equals(data)).toBe(true);
    }
    expect(reader.calls).toEqual({ Decrypt: 1 });
  });

  it('works with an alias: GenerateDataKey takes it, decryption resolves it once with DescribeKey', async () => {
    const writer = countedProvider({ keyId: alias });
    const written = await writeMany(writer, 3);
    expect(writer.calls).toEqual({ GenerateDataKey: 1 });
    expect(written[0]?.record.encryption.keyId).toBe(keyArn);

    const reader = countedProvider({ keyId: alias });
    const session = createDecryptionSession(reader);
    await Promise.all(written.map(({ record }) => collect(readObject({ storage, key: record.key, session, expected: record }))));
    expect(reader.calls).toEqual({ DescribeKey: 1, Decrypt: 1 });
  });

  it('another kms key -> wrongKey, without calling Decrypt', async () => {
    const [object] = await writeMany(countedProvider(), 1);
    const reader = countedProvider({ keyId: otherKeyArn });
    const error = await readError(reader, object?.record.key ?? '');
    expect(error.code).toBe('wrongKey');
    expect(error.message).toBe(`cannot decrypt object ${object?.record.key}: kms key ${otherKeyArn} is not the key it was encrypted with (it needs kms key ${keyArn})`);
    expect(reader.calls.Decrypt).toBeUndefined();
  });

  it('an altered encrypted data key -> objectCorrupted (KMS rejects it)', async () => {
    const [object] = await writeMany(countedProvider(), 1);
    const key = object?.record.key ?? '';
    const stored = await readFile(join(root, key));
    // The KMS ciphertext blob follows the key ARN in the header; alter a byte in its middle.
    const arnAt = stored.indexOf(Buffer.from(keyArn));
    const blobAt = arnAt + keyArn.length + 2;
    const at = blobAt + Math.floor(stored.readUInt16BE(arnAt + keyArn.length) / 2);
    stored.writeUInt8(stored.readUInt8(at) ^ 0x01, at);
    await writeFile(join(root, key), stored);
    const error = await readError(countedProvider(), key);
    expect(error.code).toBe('objectCorrupted');
  });

  it('an unreachable KMS -> kmsUnavailable within seconds, naming endpoint and region', async () => {
    const closedPort = await freePort();
    const endpoint = `http://127.0.0.1:${closedPort}`;
    const offline = countedProvider({ endpoint });
    const started = Date.now();
    const error = await writeMany(offline, 1).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(isLifeboatError(error, 'kmsUnavailable')).toBe(true);
    expect((error as Error).message).toMatch(new RegExp(`^cannot encrypt object base/.+/file-0: aws kms is unreachable at ${endpoint} \\(region ${moto.region}\\): .*ECONNREFUSED`));
    expect((error as LifeboatError).hint).toContain(endpoint);
    expect(offline.calls.GenerateDataKey).toBe(1);

    // Reading: the same, from Decrypt.
    const [object] = await writeMany(countedProvider(), 1);
    const readFailure = await readError(countedProvider({ endpoint }), object?.record.key ?? '');
    expect(readFailure.code).toBe('kmsUnavailable');
    expect(readFailure.message).toContain(`aws kms is unreachable at ${endpoint}`);
  });

  it('a key that does not exist -> kmsUnavailable naming the key and region', async () => {
    const missing = `alias/lifeboat-missing-${scope.backupId}`;
    const error = await writeMany(countedProvider({ keyId: missing }), 1).catch((e: unknown) => e);
    expect(isLifeboatError(error, 'kmsUnavailable')).toBe(true);
    expect((error as Error).message).toMatch(new RegExp(`^cannot encrypt object base/.+: kms key ${missing} does not exist in region ${moto.region}$`));
  });

  it('wraps each data key under a key in a second region too, so either region can read (disaster recovery)', async () => {
    const replica = inject('motoReplica');
    const replicaAdmin = createKmsClient({ region: replica.region, endpoint: replica.endpoint, credentials: MOTO_CREDENTIALS });
    try {
      const replicaArn = (await replicaAdmin.send(new CreateKeyCommand({ Description: 'lifeboat replica' }))).KeyMetadata?.Arn ?? '';
      expect(replicaArn).toContain(`:${replica.region}:`);
      const writer = countedProvider({ additionalKeyIds: [replicaArn], regionEndpoints: { [replica.region]: replica.endpoint } });
      const written = await writeMany(writer, 3);
      expect(writer.calls).toEqual({ GenerateDataKey: 1, Encrypt: 1 });

      // The primary region is gone: read with the replica key alone, in the replica region.
      const survivor = countedProvider({ keyId: replicaArn, region: replica.region, endpoint: replica.endpoint });
      const session = createDecryptionSession(survivor);
      for (const { record, data } of written) {
        expect((await collect(readObject({ storage, key: record.key, session, expected: record }))).equals(data)).toBe(true);
      }
      expect(survivor.calls).toEqual({ Decrypt: 1 });
    } finally {
      replicaAdmin.destroy();
    }
  });

  it('refuses a malformed key id at construction', () => {
    expect(() => createAwsKmsKeyProvider({ keyId: 'arn:aws:kms:broken', region: moto.region })).toThrow(/is not a key id, alias or ARN/);
  });
});
