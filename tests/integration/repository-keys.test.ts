// One key per repository (issue #11, defect 1), through the CLI: a missing key file on a repository that holds
// data, or another key than the one it records, is refused by every writing command and by `check` (keyFile 77,
// wrongKey 75) naming the expected key, with nothing written; a repository without a record (made before it
// existed) gets one only once the key opens its oldest object; `repository init`. On fs and on S3 with KMS (moto).
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { CreateAliasCommand, CreateKeyCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, type BucketLocationConstraint } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseConfig, resolveConfig, type RuntimeConfig } from '../../src/config/index.js';
import { createKmsClient } from '../../src/crypto/aws-kms.js';
import { createEncryptionSession, formatLocalKeyId, loadLocalKeyFile, type KeyProvider } from '../../src/crypto/index.js';
import { writeObject } from '../../src/pipeline/index.js';
import { openRepository } from '../../src/repository/open-repository.js';
import { createS3Client } from '../../src/storage/create-s3-client.js';
import { openStorage, repositoryKeysKey, restorePointKey, walSegmentKey, type Storage } from '../../src/storage/index.js';
import { MOTO_CREDENTIALS } from '../harness/moto.js';
import '../harness/provided-context.js';
import { startRestoreSource, type RestoreSource } from '../harness/restore-source.js';
import { ensureCliBuilt } from '../harness/wal-archiver-runner.js';

const REPO_ROOT = process.cwd();
const moto = inject('motoPrimary');
let source: RestoreSource;
/** The fixture's config as written, to derive variants from. */
let baseConfig: Record<string, unknown>;
/** Key id of the fixture's key file, the one its repository is encrypted with. */
let keyA: string;
const otherKeyPath = (): string => join(source.fixture.dir, 'keys', 'other.key');
let keyB: string;

interface CliRun {
  code: number | null;
  stdout: string;
  /** stdout and stderr together. */
  output: string;
}

/** `lifeboat --config <config> ...args`, killed (code null) if it has not exited within `timeoutMs`. */
function lifeboat(config: string, args: readonly string[], env: NodeJS.ProcessEnv = source.fixture.env, timeoutMs = 45_000): Promise<CliRun> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'lifeboat.js'), '--config', config, ...args], {
    env: { ...env, LIFEBOAT_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => ((stdout += chunk), (output += chunk)));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  // A command that wrongly accepts the key may run on (wal archive does until stopped): that is a failure too.
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, output });
    }),
  );
}

/** A config file next to the fixture's (relative paths resolve the same) with other sections replaced. */
function writeConfig(name: string, replace: Record<string, unknown>): string {
  const path = join(source.fixture.dir, `${name}.yaml`);
  writeFileSync(path, `${JSON.stringify({ ...baseConfig, ...replace }, null, 2)}\n`, { mode: 0o600 });
  return path;
}

function resolveFile(path: string, env: NodeJS.ProcessEnv = source.fixture.env): RuntimeConfig {
  return resolveConfig(parseConfig(JSON.parse(readFileSync(path, 'utf8')) as unknown, path), path, env);
}

/** Every object of the repository with its size: what "nothing written" is checked against. */
async function snapshot(storage: Storage): Promise<string[]> {
  const objects: string[] = [];
  for await (const object of storage.list('')) objects.push(`${object.key} ${object.sizeBytes}`);
  return objects;
}

async function readRecord(storage: Storage): Promise<{ provider: string; keyIds: string[]; provenWith?: string } | undefined> {
  if ((await storage.head(repositoryKeysKey())) === undefined) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of await storage.get(repositoryKeysKey())) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as { provider: string; keyIds: string[]; provenWith?: string };
}

/** Stores one encrypted WAL segment object of `cluster` with `keys`, as the archiver would. */
async function storeWalObject(storage: Storage, keys: KeyProvider, cluster: string, segment: string): Promise<string> {
  const bytes = randomBytes(64 * 1024);
  const key = walSegmentKey(cluster, segment, createHash('sha256').update(bytes).digest('hex'));
  const session = createEncryptionSession(keys, { scope: { cluster, family: 'wal' } });
  try {
    await writeObject({ storage, key, source: Readable.from([bytes]), compression: { algorithm: 'zstd', level: 3 }, session, createOnly: true });
  } finally {
    session.close();
  }
  return key;
}

const WRITERS: readonly (readonly string[])[] = [['wal', 'archive'], ['backup', 'full'], ['backup', 'incremental'], ['restore-point', 'refused-point'], ['check']];

beforeAll(async () => {
  ensureCliBuilt();
  // A real repository: the fixture's key, a full backup and its WAL.
  source = await startRestoreSource();
  await source.fullBackup();
  await source.stopArchiver();
  baseConfig = JSON.parse(readFileSync(source.fixture.configPath, 'utf8')) as Record<string, unknown>;
  keyA = source.repository.keys.keyId;
  writeFileSync(otherKeyPath(), `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  keyB = formatLocalKeyId(await loadLocalKeyFile({ path: otherKeyPath() }));
}, 300_000);

afterAll(async () => {
  await source?.stop();
});

describe('fs repository, local key', () => {
  it('a missing key file on a repository holding data: every writing command and check refuse it (keyFile), naming the expected key id and the path, and write nothing', async () => {
    const missing = join(source.fixture.dir, 'keys', 'missing.key');
    const config = writeConfig('missing-key', { encryption: { provider: 'local', keyFile: './keys/missing.key' } });
    const before = await snapshot(source.repository.storage);
    for (const args of WRITERS) {
      const run = await lifeboat(config, args);
      expect(run.code, `${args.join(' ')}: ${run.output}`).toBe(77);
      expect(run.output).toContain('error[keyFile]: ');
      expect(run.output).toContain(`key file ${missing} does not exist, and repository`);
      expect(run.output).toContain(`key id ${keyA}`);
      expect(run.output).toContain('HINT: point encryption.keyFile at the key file holding key id');
      expect(existsSync(missing), `${args.join(' ')} created the key file`).toBe(false);
      expect(await snapshot(source.repository.storage), `${args.join(' ')} wrote to the repository`).toEqual(before);
    }
  }, 300_000);

  it('another key file: refused (wrongKey) naming the recorded key id and the configured key file, nothing written', async () => {
    const config = writeConfig('other-key', { encryption: { provider: 'local', keyFile: './keys/other.key' } });
    const before = await snapshot(source.repository.storage);
    for (const args of WRITERS) {
      const run = await lifeboat(config, args);
      expect(run.code, `${args.join(' ')}: ${run.output}`).toBe(75);
      expect(run.output).toContain(`key file ${otherKeyPath()} (key id ${keyB}) is not the key repository`);
      expect(run.output).toContain(`it records key id ${keyA}`);
      expect(await snapshot(source.repository.storage)).toEqual(before);
    }
  }, 300_000);

  it('readers never create a key; restore with another key fails before fetching anything, naming the expected key id', async () => {
    const target = join(source.fixture.dir, 'restores', 'other-key');
    const restore = await lifeboat(writeConfig('other-key', { encryption: { provider: 'local', keyFile: './keys/other.key' } }), ['restore', '--target-dir', target, '--latest']);
    expect(restore.code, restore.output).toBe(75);
    expect(restore.output).toContain(`it records key id ${keyA}`);
    expect(existsSync(target)).toBe(false);

    const missing = join(source.fixture.dir, 'keys', 'missing.key');
    const list = await lifeboat(writeConfig('missing-key', { encryption: { provider: 'local', keyFile: './keys/missing.key' } }), ['backups', 'list']);
    expect(list.code, list.output).toBe(77);
    expect(list.output).toContain(`key id ${keyA}`);
    expect(existsSync(missing)).toBe(false);
  }, 120_000);

  it('repository init: creates key and record on an empty folder, changes nothing when run again, refuses another key', async () => {
    const config = writeConfig('init', { repository: { driver: 'fs', path: './repo-init' }, encryption: { provider: 'local', keyFile: './keys/init.key' } });
    const keyPath = join(source.fixture.dir, 'keys', 'init.key');
    const storage = openStorage(resolveFile(config).repository);

    const first = await lifeboat(config, ['repository', 'init', '--json']);
    expect(first.code, first.output).toBe(0);
    expect(statSync(keyPath).mode & 0o777).toBe(0o600);
    const keyId = formatLocalKeyId(await loadLocalKeyFile({ path: keyPath }));
    expect(JSON.parse(first.stdout)).toMatchObject({ outcome: 'initialised', keyFileCreated: true, provider: 'local', keyIds: [keyId] });
    expect(await readRecord(storage)).toMatchObject({ provider: 'local', keyIds: [keyId] });

    const again = await lifeboat(config, ['repository', 'init']);
    expect(again.code, again.output).toBe(0);
    expect(again.output).toContain(`already records key id ${keyId}`);

    const before = await snapshot(storage);
    const other = await lifeboat(writeConfig('init-other', { repository: { driver: 'fs', path: './repo-init' }, encryption: { provider: 'local', keyFile: './keys/other.key' } }), ['repository', 'init']);
    expect(other.code, other.output).toBe(75);
    expect(other.output).toContain(`it records key id ${keyId}`);
    // The repository is still empty, so the hint says how to start over if that key is lost.
    expect(other.output).toContain(`delete ${repositoryKeysKey()}`);
    expect(await snapshot(storage)).toEqual(before);

    // On a repository holding data and recording this key: nothing to do.
    const onSource = await lifeboat(source.fixture.configPath, ['repository', 'init', '--json']);
    expect(onSource.code, onSource.output).toBe(0);
    expect(JSON.parse(onSource.stdout)).toMatchObject({ outcome: 'unchanged', keyFileCreated: false, keyIds: [keyA] });
  }, 120_000);

  it('a repository without a key record (made before it existed) gets one on its first write, only once the key opens its oldest object', async () => {
    const { storage } = source.repository;
    await storage.delete([repositoryKeysKey()]);
    // As in the trial: a later object under a second key (another cluster, so it lists after the backup).
    const keysB = (await openRepository(resolveFile(writeConfig('other-key', { encryption: { provider: 'local', keyFile: './keys/other.key' } })), 'read')).keys;
    await storeWalObject(storage, keysB, 'zz-second-key', '000000010000000000000001');
    keysB.close();
    expect(await readRecord(storage)).toBeUndefined();

    // Key B opens that newer object, but not the oldest: refused, nothing recorded, no restore point.
    const otherConfig = writeConfig('other-key', { encryption: { provider: 'local', keyFile: './keys/other.key' } });
    const refused = await lifeboat(otherConfig, ['restore-point', 'legacy-b']);
    expect(refused.code, refused.output).toBe(75);
    expect(refused.output).toMatch(/does not open the existing objects of repository .*clusters\/main\/backups\/[^/]+\/base\/part-00001\.tar\.zst\.enc/);
    expect(refused.output).toContain(`local key id ${keyA}`);
    expect(await readRecord(storage)).toBeUndefined();
    expect(await storage.head(restorePointKey('main', 'legacy-b'))).toBeUndefined();

    // verify with that key names the problem; its hint is to configure the right key, not to take a new backup.
    const verify = await lifeboat(otherConfig, ['verify', '--cluster', 'main']);
    expect(verify.code, verify.output).toBe(75);
    expect(verify.output).toContain('HINT: the objects are encrypted with another key: configure the key they were encrypted with');
    expect(verify.output).not.toContain('clean chain');
    expect(await readRecord(storage)).toBeUndefined();

    // The original key opens it: the first write records it, with the object that proved it.
    const accepted = await lifeboat(source.fixture.configPath, ['restore-point', 'legacy-a']);
    expect(accepted.code, accepted.output).toBe(0);
    const record = await readRecord(storage);
    expect(record).toMatchObject({ provider: 'local', keyIds: [keyA] });
    expect(record?.provenWith).toMatch(/^clusters\/main\/backups\/[^/]+\/base\/part-00001\.tar\.zst\.enc$/);
    expect(await storage.head(restorePointKey('main', 'legacy-a'))).toBeDefined();

    const check = await lifeboat(otherConfig, ['check']);
    expect(check.code, check.output).toBe(75);
  }, 180_000);
});

describe('s3 repository (moto)', () => {
  const awsEnv = { LB_AWS_KEY_ID: MOTO_CREDENTIALS.accessKeyId, LB_AWS_SECRET: MOTO_CREDENTIALS.secretAccessKey };
  const credentials = { accessKeyId: { env: 'LB_AWS_KEY_ID' }, secretAccessKey: { env: 'LB_AWS_SECRET' } };
  const bucket = `lb-keys-${randomBytes(4).toString('hex')}`;
  let kmsKey1 = '';
  let kmsKey2 = '';
  let alias1 = '';
  const env = (): NodeJS.ProcessEnv => ({ ...source.fixture.env, ...awsEnv });
  const s3Repository = (prefix: string): Record<string, unknown> => ({
    driver: 's3', bucket, region: moto.region, endpoint: moto.endpoint, forcePathStyle: true, prefix, credentials,
  });
  const kms = (keyId: string): Record<string, unknown> => ({ provider: 'aws-kms', keyId, region: moto.region, endpoint: moto.endpoint, credentials });

  /** A repository at `prefix` initialised by a first write (key recorded) that holds one encrypted WAL object. */
  async function repositoryWithData(name: string, prefix: string, encryption: Record<string, unknown>): Promise<{ storage: Storage; walKey: string }> {
    const repository = await openRepository(resolveFile(writeConfig(name, { repository: s3Repository(prefix), encryption }), env()), 'write');
    try {
      return { storage: repository.storage, walKey: await storeWalObject(repository.storage, repository.keys, 'main', '000000010000000000000001') };
    } finally {
      repository.close();
    }
  }

  beforeAll(async () => {
    const s3 = createS3Client({ region: moto.region, endpoint: moto.endpoint, forcePathStyle: true, credentials: MOTO_CREDENTIALS });
    await s3.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: moto.region as BucketLocationConstraint } }));
    s3.destroy();
    const admin = createKmsClient({ region: moto.region, endpoint: moto.endpoint, credentials: MOTO_CREDENTIALS });
    kmsKey1 = (await admin.send(new CreateKeyCommand({ Description: 'lifeboat repository-keys 1' }))).KeyMetadata?.Arn ?? '';
    kmsKey2 = (await admin.send(new CreateKeyCommand({ Description: 'lifeboat repository-keys 2' }))).KeyMetadata?.Arn ?? '';
    alias1 = `alias/lifeboat-keys-${randomBytes(4).toString('hex')}`;
    await admin.send(new CreateAliasCommand({ AliasName: alias1, TargetKeyId: kmsKey1 }));
    admin.destroy();
  });

  it('a missing local key file on a non-empty S3 repository is refused (keyFile), nothing written', async () => {
    writeFileSync(join(source.fixture.dir, 'keys', 's3.key'), `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    const { storage } = await repositoryWithData('s3-local', 'local/', { provider: 'local', keyFile: './keys/s3.key' });
    const s3KeyId = formatLocalKeyId(await loadLocalKeyFile({ path: join(source.fixture.dir, 'keys', 's3.key') }));
    const missing = join(source.fixture.dir, 'keys', 's3-missing.key');
    const config = writeConfig('s3-missing', { repository: s3Repository('local/'), encryption: { provider: 'local', keyFile: './keys/s3-missing.key' } });
    const before = await snapshot(storage);
    for (const args of [['wal', 'archive'], ['backup', 'full'], ['check']]) {
      const run = await lifeboat(config, args, env());
      expect(run.code, `${args.join(' ')}: ${run.output}`).toBe(77);
      expect(run.output).toContain(`key file ${missing} does not exist, and repository s3://${bucket}/local/ is encrypted for key id ${s3KeyId}`);
      expect(existsSync(missing)).toBe(false);
      expect(await snapshot(storage)).toEqual(before);
    }
  }, 180_000);

  it('a second KMS key is refused (wrongKey) naming the recorded key ARN, nothing written; an alias of the recorded key is accepted', async () => {
    const { storage } = await repositoryWithData('s3-kms', 'kms/', kms(kmsKey1));
    expect(await readRecord(storage)).toMatchObject({ provider: 'aws-kms', keyIds: [kmsKey1] });
    const config = writeConfig('s3-kms-2', { repository: s3Repository('kms/'), encryption: kms(kmsKey2) });
    const before = await snapshot(storage);
    for (const args of [['wal', 'archive'], ['backup', 'full'], ['check']]) {
      const run = await lifeboat(config, args, env());
      expect(run.code, `${args.join(' ')}: ${run.output}`).toBe(75);
      expect(run.output).toContain(`it records kms key ${kmsKey1}`);
      expect(run.output).toContain(`encryption.keyId to ${kmsKey1}`);
      expect(await snapshot(storage)).toEqual(before);
    }
    const viaAlias = await lifeboat(writeConfig('s3-kms-alias', { repository: s3Repository('kms/'), encryption: kms(alias1) }), ['repository', 'init', '--json'], env());
    expect(viaAlias.code, viaAlias.output).toBe(0);
    expect(JSON.parse(viaAlias.stdout)).toMatchObject({ outcome: 'unchanged', keyIds: [kmsKey1] });
  }, 180_000);

  it('an S3 repository without a key record gets the KMS key ARN recorded only once the key opens its objects', async () => {
    const { storage, walKey } = await repositoryWithData('s3-legacy', 'legacy/', kms(kmsKey1));
    await storage.delete([repositoryKeysKey()]);
    const before = await snapshot(storage);
    const refused = await lifeboat(writeConfig('s3-legacy-2', { repository: s3Repository('legacy/'), encryption: kms(kmsKey2) }), ['backup', 'full'], env());
    expect(refused.code, refused.output).toBe(75);
    expect(refused.output).toContain(walKey);
    expect(await snapshot(storage)).toEqual(before);

    const init = await lifeboat(writeConfig('s3-legacy-alias', { repository: s3Repository('legacy/'), encryption: kms(alias1) }), ['repository', 'init', '--json'], env());
    expect(init.code, init.output).toBe(0);
    expect(JSON.parse(init.stdout)).toMatchObject({ outcome: 'recorded', provenWith: walKey, keyIds: [kmsKey1] });
    expect(await readRecord(storage)).toMatchObject({ provider: 'aws-kms', keyIds: [kmsKey1], provenWith: walKey });
  }, 180_000);
});
