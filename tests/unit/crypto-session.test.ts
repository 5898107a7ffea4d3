// Encryption and decryption sessions: one data key per session (also under concurrency), replaced at its age
// and object limits, one unwrap per data key when reading, the key id recorded, and aborts naming the object.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createDecryptionSession,
  createEncryptionSession,
  createLocalKeyProviderFromKey,
  type DecryptionSession,
  type EncryptionSession,
  type KeyProvider,
} from '../../src/crypto/index.js';
import { isLifeboatError } from '../../src/errors/index.js';
import { collect } from '../harness/streams.js';

const scope = { cluster: 'main', family: 'wal', backupId: 'session-1' } as const;

/** The local provider with call counters on its two key operations. */
function countingProvider(): KeyProvider & { generated: number; unwrapped: number } {
  const inner = createLocalKeyProviderFromKey(randomBytes(32), 'test key');
  const counted = {
    ...inner,
    generated: 0,
    unwrapped: 0,
    generateDataKey: (...args: Parameters<KeyProvider['generateDataKey']>) => {
      counted.generated++;
      return inner.generateDataKey(...args);
    },
    unwrapDataKey: (...args: Parameters<KeyProvider['unwrapDataKey']>) => {
      counted.unwrapped++;
      return inner.unwrapDataKey(...args);
    },
  };
  return counted;
}

async function encrypt(session: EncryptionSession, object: string, data: Buffer, compression = 'zstd'): Promise<{ message: Buffer; keyId: string }> {
  const { stream, header } = session.createEncryptStream({ object, objectContext: { 'lifeboat:compression': compression } });
  const [message] = await Promise.all([collect(stream), pipeline(Readable.from([data]), stream)]);
  return { message, keyId: (await header).keyId };
}

async function decrypt(session: DecryptionSession, object: string, message: Buffer): Promise<Buffer> {
  const { stream } = session.createDecryptStream({ object });
  const [plaintext] = await Promise.all([collect(stream), pipeline(Readable.from([message]), stream)]);
  return plaintext;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('encryption session', () => {
  it('encrypts many objects under one data key, and records the key id', async () => {
    const provider = countingProvider();
    const session = createEncryptionSession(provider, { scope });
    for (let i = 0; i < 20; i++) {
      const { keyId } = await encrypt(session, `wal/${i}`, randomBytes(1000));
      expect(keyId).toBe(provider.keyId);
    }
    expect(provider.generated).toBe(1);
  });

  it('asks for one data key when the first objects are written concurrently', async () => {
    const provider = countingProvider();
    const session = createEncryptionSession(provider, { scope });
    await Promise.all(Array.from({ length: 12 }, (_, i) => encrypt(session, `wal/${i}`, randomBytes(5000))));
    expect(provider.generated).toBe(1);
  });

  it('uses a data key per distinct per-object context', async () => {
    const provider = countingProvider();
    const session = createEncryptionSession(provider, { scope });
    await encrypt(session, 'a', randomBytes(10), 'zstd');
    await encrypt(session, 'b', randomBytes(10), 'gzip');
    await encrypt(session, 'c', randomBytes(10), 'zstd');
    expect(provider.generated).toBe(2);
  });

  it('replaces the data key after maxObjectsPerDataKey objects and after maxDataKeyAgeMs', async () => {
    const provider = countingProvider();
    const session = createEncryptionSession(provider, { scope, maxObjectsPerDataKey: 3, maxDataKeyAgeMs: 60_000 });
    for (let i = 0; i < 10; i++) await encrypt(session, `o${i}`, randomBytes(10));
    expect(provider.generated).toBe(4);

    vi.useFakeTimers({ toFake: ['Date'] });
    const aged = countingProvider();
    const agedSession = createEncryptionSession(aged, { scope, maxDataKeyAgeMs: 60_000 });
    await encrypt(agedSession, 'x', randomBytes(10));
    vi.advanceTimersByTime(30_000);
    await encrypt(agedSession, 'y', randomBytes(10));
    expect(aged.generated).toBe(1);
    vi.advanceTimersByTime(31_000);
    await encrypt(agedSession, 'z', randomBytes(10));
    expect(aged.generated).toBe(2);
  });

  it('refuses new objects once closed', async () => {
    const session = createEncryptionSession(countingProvider(), { scope });
    session.close();
    const error = await encrypt(session, 'late', randomBytes(10)).catch((e: unknown) => e);
    expect(isLifeboatError(error, 'internal')).toBe(true);
    expect((error as Error).message).toContain('late');
  });

  it('stops an object on its abort signal, naming it', async () => {
    const session = createEncryptionSession(countingProvider(), { scope });
    const controller = new AbortController();
    const { stream } = session.createEncryptStream({ object: 'wal/aborted', signal: controller.signal });
    controller.abort();
    const error = await collect(stream).catch((e: unknown) => e);
    expect(isLifeboatError(error, 'aborted')).toBe(true);
    expect((error as Error).message).toBe('encrypting object wal/aborted was aborted');
  });

  it('can be destroyed mid-message without an uncaught exception from the encryption sdk', async () => {
    // The ESDK pipes its encrypt stages without an error callback; destroying them would throw "Premature close".
    const session = createEncryptionSession(countingProvider(), { scope });
    const { stream } = session.createEncryptStream({ object: 'wal/destroyed' });
    stream.write(randomBytes(3 * 1024 * 1024));
    await new Promise((resolve) => setTimeout(resolve, 50));
    stream.destroy(new Error('reader went away'));
    // vitest fails the file on any uncaught exception raised meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(stream.destroyed).toBe(true);
  });

  it('rejects per-object context keys outside lifeboat: or overriding the scope', () => {
    const session = createEncryptionSession(countingProvider(), { scope });
    expect(() => session.createEncryptStream({ object: 'x', objectContext: { other: 'a' } })).toThrow(/invalid per-object encryption context key/);
    expect(() => session.createEncryptStream({ object: 'x', objectContext: { 'lifeboat:backup': 'b' } })).toThrow(/lifeboat:backup/);
  });
});

describe('decryption session', () => {
  it('unwraps each data key once, however many objects share it, also concurrently', async () => {
    const provider = countingProvider();
    const first = createEncryptionSession(provider, { scope });
    const second = createEncryptionSession(provider, { scope: { ...scope, backupId: 'session-2' } });
    const objects = await Promise.all([
      ...Array.from({ length: 8 }, (_, i) => encrypt(first, `a${i}`, Buffer.from(`first ${i}`))),
      ...Array.from({ length: 8 }, (_, i) => encrypt(second, `b${i}`, Buffer.from(`second ${i}`))),
    ]);
    expect(provider.generated).toBe(2);

    const reading = createDecryptionSession(provider);
    const plaintexts = await Promise.all(objects.map(({ message }, i) => decrypt(reading, `obj${i}`, message)));
    expect(plaintexts.map(String)).toEqual([...Array.from({ length: 8 }, (_, i) => `first ${i}`), ...Array.from({ length: 8 }, (_, i) => `second ${i}`)]);
    expect(provider.unwrapped).toBe(2);
  });

  it('can be destroyed mid-message', async () => {
    const provider = countingProvider();
    const { message } = await encrypt(createEncryptionSession(provider, { scope }), 'wal/big', randomBytes(3 * 1024 * 1024));
    const { stream } = createDecryptionSession(provider).createDecryptStream({ object: 'wal/big' });
    stream.write(message.subarray(0, 1024 * 1024 + 5000));
    await new Promise((resolve) => setTimeout(resolve, 50));
    stream.destroy();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(stream.destroyed).toBe(true);
  });

  it('exposes the authenticated context and key id in the header', async () => {
    const provider = countingProvider();
    const { message } = await encrypt(createEncryptionSession(provider, { scope }), 'wal/1', randomBytes(100), 'gzip');
    const { stream, header } = createDecryptionSession(provider).createDecryptStream({ object: 'wal/1', expectedScope: { family: 'wal' } });
    void pipeline(Readable.from([message]), stream);
    await collect(stream);
    expect(await header).toEqual({
      provider: 'local',
      keyId: provider.keyId,
      encryptionContext: { 'lifeboat:cluster': 'main', 'lifeboat:family': 'wal', 'lifeboat:backup': 'session-1', 'lifeboat:compression': 'gzip' },
    });
  });
});
