// Pre-flight checks of the repository and the key: a probe object written, read back and deleted, then the
// same probe through the full compress + encrypt pipeline (a real data key from the provider, e.g. KMS).
import { randomBytes, randomUUID } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createDecryptionSession, createEncryptionSession, type KeyProvider } from '../crypto/index.js';
import { readObject, writeObject } from '../pipeline/index.js';
import { probeKey, readAll, type Storage } from '../storage/index.js';
import { checkStep, type CheckItem } from './check-item.js';

export async function checkRepository(storage: Storage, keys: KeyProvider, signal?: AbortSignal): Promise<CheckItem[]> {
  const items: CheckItem[] = [];
  const nonce = randomUUID();
  const plainKey = probeKey(`${nonce}-plain`);
  items.push(
    await checkStep('repository read/write', async () => {
      const payload = randomBytes(4096);
      await storage.put(plainKey, payload, { createOnly: true, signal });
      try {
        const back = await readAll(await storage.get(plainKey, { signal }), 1 << 20);
        if (!back.equals(payload)) throw new Error(`probe object ${plainKey} read back different bytes`);
      } finally {
        await storage.delete([plainKey], { signal });
      }
      return `${storage.location}: write, read and delete ok`;
    }),
  );
  if (!items[0]!.ok) return items;
  const sealedKey = probeKey(`${nonce}-sealed`);
  items.push(
    await checkStep('encryption', async () => {
      const payload = randomBytes(64 * 1024);
      const encrypting = createEncryptionSession(keys, { scope: { cluster: 'probe', family: 'meta' }, ...(signal ? { signal } : {}) });
      const decrypting = createDecryptionSession(keys, { ...(signal ? { signal } : {}) });
      try {
        const stored = await writeObject({ storage, key: sealedKey, source: Readable.from([payload]), compression: { algorithm: 'zstd', level: 3 }, session: encrypting, ...(signal ? { signal } : {}) });
        const chunks: Buffer[] = [];
        await pipeline(
          readObject({ storage, key: sealedKey, session: decrypting, expected: stored, ...(signal ? { signal } : {}) }),
          new Writable({ write: (chunk: Buffer, _e, done) => (chunks.push(chunk), done()) }),
        );
        if (!Buffer.concat(chunks).equals(payload)) throw new Error('the encrypted probe decrypted to different bytes');
        return `${keys.description}: data key generated, object encrypted and decrypted`;
      } finally {
        encrypting.close();
        decrypting.close();
        await storage.delete([sealedKey]).catch(() => undefined);
      }
    }),
  );
  return items;
}
