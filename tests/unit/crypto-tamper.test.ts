// Tampering with encrypted objects (local key): each kind of damage gets its own error code, and every message
// names the object. Flipped byte -> objectCorrupted, cut-off message -> objectTruncated, other key -> wrongKey,
// object from another backup -> objectCorrupted; and nothing but Lifeboat's unsigned committing suite is read.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { buildEncrypt } from '@aws-crypto/encrypt-node';
import { AlgorithmSuiteIdentifier, CommitmentPolicy, MultiKeyringNode } from '@aws-crypto/material-management-node';
import { RawAesKeyringNode, RawAesWrappingSuiteIdentifier } from '@aws-crypto/raw-aes-keyring-node';
import { describe, expect, it } from 'vitest';
import {
  createDecryptionSession,
  createEncryptionSession,
  createLocalKeyProviderFromKey,
  formatLocalKeyId,
  type DecryptionSession,
  type EncryptionSession,
} from '../../src/crypto/index.js';
import { isLifeboatError, type ErrorCode, type LifeboatError } from '../../src/errors/index.js';
import { collect } from '../harness/streams.js';

const OBJECT = 'base/20240101T000000Z/pg_data/base/16384/16385';
const key = randomBytes(32);
const provider = createLocalKeyProviderFromKey(key, 'test key');
const scope = { cluster: 'main', family: 'base', backupId: '20240101T000000Z' } as const;

async function encrypt(session: EncryptionSession, data: Buffer, object = OBJECT): Promise<Buffer> {
  const { stream } = session.createEncryptStream({ object, objectContext: { 'lifeboat:compression': 'none' } });
  const [message] = await Promise.all([collect(stream), pipeline(Readable.from([data]), stream)]);
  return message;
}

async function decrypt(session: DecryptionSession, message: Buffer, object = OBJECT, expectedScope = {}): Promise<Buffer> {
  const { stream } = session.createDecryptStream({ object, expectedScope });
  Readable.from(chunks(message, 70_000)).pipe(stream);
  return collect(stream);
}

function* chunks(data: Buffer, size: number): Generator<Buffer> {
  for (let offset = 0; offset < data.length; offset += size) yield data.subarray(offset, offset + size);
}

async function decryptError(session: DecryptionSession, message: Buffer, code: ErrorCode, expectedScope = {}): Promise<LifeboatError> {
  const error = await decrypt(session, message, OBJECT, expectedScope).then(() => undefined, (e: unknown) => e);
  expect(error, `expected a ${code} error`).toBeInstanceOf(Error);
  expect((error as LifeboatError).code).toBe(code);
  expect(isLifeboatError(error, code)).toBe(true);
  expect((error as Error).message).toContain(OBJECT);
  return error as LifeboatError;
}

describe('encrypted objects', () => {
  const data = randomBytes(3 * 1024 * 1024 + 17);

  it('round trip, with the committing unsigned suite and 1 MiB frames in the header', async () => {
    const message = await encrypt(createEncryptionSession(provider, { scope }), data);
    expect(message[0]).toBe(0x02); // message format version 2 (key commitment)
    expect(message.readUInt16BE(1)).toBe(AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY);
    // Walk the v2 header: version, suite, message id, context, data keys, content type, then the frame length.
    let at = 1 + 2 + 32;
    at += 2 + message.readUInt16BE(at);
    const dataKeys = message.readUInt16BE(at);
    at += 2;
    for (let i = 0; i < dataKeys; i++) for (let field = 0; field < 3; field++) at += 2 + message.readUInt16BE(at);
    expect(message[at]).toBe(0x02); // framed content
    expect(message.readUInt32BE(at + 1)).toBe(1024 * 1024);
    expect((await decrypt(createDecryptionSession(provider), message)).equals(data)).toBe(true);
  });

  it('a flipped byte in the middle -> objectCorrupted (authentication failed)', async () => {
    const message = await encrypt(createEncryptionSession(provider, { scope }), data);
    const tampered = Buffer.from(message);
    const middle = Math.floor(tampered.length / 2);
    tampered.writeUInt8(tampered.readUInt8(middle) ^ 0x01, middle);
    const error = await decryptError(createDecryptionSession(provider), tampered, 'objectCorrupted');
    expect(error.message).toBe(`object ${OBJECT} failed authentication: its bytes were altered after it was written`);
  });

  it('a flipped byte in the header, a frame header or a tag -> objectCorrupted', async () => {
    const message = await encrypt(createEncryptionSession(provider, { scope }), randomBytes(2000));
    for (const position of [0, 1, 5, 40, 60, 150, message.length - 40, message.length - 1]) {
      const tampered = Buffer.from(message);
      tampered.writeUInt8(tampered.readUInt8(position) ^ 0x80, position);
      const error = await decrypt(createDecryptionSession(provider), tampered).then(() => undefined, (e: unknown) => e);
      // Version, suite, message id (breaks the key commitment), context, data key, frame header, last tag.
      expect(isLifeboatError(error, 'objectCorrupted'), `byte ${position}: ${String(error)}`).toBe(true);
      expect((error as Error).message).toContain(OBJECT);
    }
  });

  it('a cut-off message -> objectTruncated, wherever it is cut', async () => {
    const message = await encrypt(createEncryptionSession(provider, { scope }), data);
    for (const length of [0, 10, 200, 1024 * 1024, Math.floor(message.length / 2), message.length - 1]) {
      const error = await decryptError(createDecryptionSession(provider), message.subarray(0, length), 'objectTruncated');
      expect(error.message).toMatch(new RegExp(`^object ${OBJECT} is truncated: it ends before its (header|final frame)$`));
    }
  });

  it('another key -> wrongKey, naming both key ids', async () => {
    const message = await encrypt(createEncryptionSession(provider, { scope }), data);
    const otherKey = randomBytes(32);
    const other = createLocalKeyProviderFromKey(otherKey, 'other key');
    const error = await decryptError(createDecryptionSession(other), message, 'wrongKey');
    expect(error.message).toBe(
      `cannot decrypt object ${OBJECT}: key id ${formatLocalKeyId(otherKey)} is not the key it was encrypted with ` +
        `(it needs local key id ${formatLocalKeyId(key)})`,
    );
  });

  it('an object of another backup -> objectCorrupted, naming the mismatching context entry', async () => {
    const message = await encrypt(createEncryptionSession(provider, { scope: { ...scope, backupId: 'other' } }), data);
    const error = await decryptError(createDecryptionSession(provider, { expectedScope: { cluster: 'main' } }), message, 'objectCorrupted', {
      backupId: scope.backupId,
    });
    expect(error.message).toBe(`object ${OBJECT} belongs elsewhere: its encryption context has lifeboat:backup=other, expected ${scope.backupId}`);
  });

  describe('refuses messages Lifeboat does not write', () => {
    const keyring = new RawAesKeyringNode({
      keyNamespace: 'lifeboat',
      keyName: formatLocalKeyId(key),
      unencryptedMasterKey: new Uint8Array(key),
      wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
    });

    it('a signed suite', async () => {
      const { encrypt: encryptSigned } = buildEncrypt(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
      const { result } = await encryptSigned(keyring, data, {
        suiteId: AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY_ECDSA_P384,
      });
      const error = await decryptError(createDecryptionSession(provider), Buffer.from(result), 'objectCorrupted');
      expect(error.message).toMatch(/is not a valid encrypted lifeboat object/);
    });

    it('a suite without key commitment', async () => {
      const { encrypt: encryptLegacy } = buildEncrypt(CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT);
      const { result } = await encryptLegacy(keyring, data, { suiteId: AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA256 });
      await decryptError(createDecryptionSession(provider), Buffer.from(result), 'objectCorrupted');
    });

    it('more than 10 encrypted data keys', async () => {
      const children = Array.from({ length: 10 }, (_, i) => new RawAesKeyringNode({
        keyNamespace: 'elsewhere',
        keyName: `k${i}`,
        unencryptedMasterKey: new Uint8Array(randomBytes(32)),
        wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
      }));
      const { encrypt: encryptMany } = buildEncrypt(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
      const { result } = await encryptMany(new MultiKeyringNode({ generator: keyring, children }), data, {
        suiteId: AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY,
      });
      const error = await decryptError(createDecryptionSession(provider), Buffer.from(result), 'objectCorrupted');
      expect(error.message).toMatch(/maxEncryptedDataKeys/);
    });
  });
});
