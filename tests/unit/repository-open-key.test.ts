// openRepositoryKey on the fs driver, without services: what counts as an empty repository, that readers never
// create or record anything, and that of two first writers with different keys exactly one is recorded.
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RuntimeEncryption } from '../../src/config/index.js';
import { isLifeboatError } from '../../src/errors/index.js';
import { openRepositoryKey } from '../../src/repository/open-repository-key.js';
import { loadRepositoryKeys } from '../../src/repository/repository-keys.js';
import { createFsStorage, probeKey, repositoryKeysKey, type Storage } from '../../src/storage/index.js';

let dir: string;
let storage: Storage;
const local = (name: string): RuntimeEncryption => ({ provider: 'local', keyFile: join(dir, name) });
const writeKey = (name: string): void => writeFileSync(join(dir, name), `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lifeboat-open-key-'));
  await mkdir(join(dir, 'repo'));
  storage = createFsStorage({ path: join(dir, 'repo') });
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('openRepositoryKey', () => {
  it('a repository holding only probes is empty: a writer creates the key file and records it', async () => {
    await storage.put(probeKey('left-by-check'), Buffer.from('probe'));
    const opened = await openRepositoryKey(storage, local('new.key'), { mode: 'write', now: () => new Date('2026-01-02T03:04:05Z') });
    opened.keys.close();
    expect(opened).toMatchObject({ outcome: 'recorded', keyFileCreated: true });
    expect(existsSync(join(dir, 'new.key'))).toBe(true);
    expect(await loadRepositoryKeys(storage)).toEqual({ formatVersion: 1, provider: 'local', keyIds: [opened.keys.keyId], recordedTime: '2026-01-02T03:04:05.000Z' });
  });

  it('a reader never creates a key file or a record', async () => {
    const missing = await openRepositoryKey(storage, local('none.key'), { mode: 'read' }).catch((error: unknown) => error);
    expect(isLifeboatError(missing, 'keyFile')).toBe(true);
    expect(existsSync(join(dir, 'none.key'))).toBe(false);
    writeKey('a.key');
    const opened = await openRepositoryKey(storage, local('a.key'), { mode: 'read' });
    opened.keys.close();
    expect(opened.outcome).toBe('unrecorded');
    expect(await storage.head(repositoryKeysKey())).toBeUndefined();
  });

  it('of two first writers with different keys, one is recorded and the other refused with wrongKey', async () => {
    writeKey('a.key');
    writeKey('b.key');
    const results = await Promise.allSettled([
      openRepositoryKey(storage, local('a.key'), { mode: 'write' }),
      openRepositoryKey(storage, local('b.key'), { mode: 'write' }),
    ]);
    const won = results.filter((result) => result.status === 'fulfilled');
    const lost = results.filter((result) => result.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(isLifeboatError(lost[0]!.reason, 'wrongKey')).toBe(true);
    const winner = won[0]!.value;
    winner.keys.close();
    expect((await loadRepositoryKeys(storage))?.keyIds).toEqual([winner.keys.keyId]);
  });
});
