// Runs the storage conformance suite on the fs driver (a fresh temp folder per test), plus the fs-only
// promises: temp files live in `.tmp/` and are never listed, and deletes prune the folders they empty.
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLifeboatError } from '../../src/errors/index.js';
import { createFsStorage, type Storage } from '../../src/storage/index.js';
import { describeStorageConformance } from './storage-conformance.js';

async function freshFolder(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'lifeboat-fs-storage-'));
}

describeStorageConformance('fs', async () => {
  const root = await freshFolder();
  return {
    storage: createFsStorage({ path: root }),
    async leaveIncompleteWrite(key: string) {
      // What a killed writer leaves: a temp file that never got linked into place.
      await mkdir(join(root, '.tmp'), { recursive: true });
      await writeFile(join(root, '.tmp', `${key.replaceAll('/', '_')}.tmp`), 'half written');
    },
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});

describe('fs storage specifics', () => {
  let root: string;
  let storage: Storage;
  beforeEach(async () => {
    root = await freshFolder();
    storage = createFsStorage({ path: root });
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('leaves no temp files after puts, and never lists .tmp/', async () => {
    await storage.put('a/b', Buffer.from('x'), { createOnly: true });
    await storage.put('a/b', Buffer.from('y'));
    expect(await readdir(join(root, '.tmp'))).toEqual([]);
    await writeFile(join(root, '.tmp', 'stray.tmp'), 'x');
    const keys: string[] = [];
    for await (const object of storage.list('')) keys.push(object.key);
    expect(keys).toEqual(['a/b']);
  });

  it('refuses keys inside .tmp/', async () => {
    const error = await storage.put('.tmp/x', Buffer.from('x')).catch((rejection: unknown) => rejection);
    expect(isLifeboatError(error, 'internal')).toBe(true);
  });

  it('removes only stale temp files, judged by modification time', async () => {
    await mkdir(join(root, '.tmp'));
    await writeFile(join(root, '.tmp', 'old.tmp'), 'x');
    await writeFile(join(root, '.tmp', 'new.tmp'), 'x');
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    await utimes(join(root, '.tmp', 'old.tmp'), twoHoursAgo, twoHoursAgo);
    expect(await storage.cleanupIncompleteWrites(3_600_000)).toBe(1);
    expect(await readdir(join(root, '.tmp'))).toEqual(['new.tmp']);
  });

  it('prunes folders a delete leaves empty, but not the root or folders still in use', async () => {
    await storage.put('clusters/x/backups/1/base/part-1', Buffer.from('x'));
    await storage.put('clusters/x/cluster.json', Buffer.from('{}'));
    await storage.delete(['clusters/x/backups/1/base/part-1']);
    expect(await readdir(join(root, 'clusters', 'x'))).toEqual(['cluster.json']);
    await storage.delete(['clusters/x/cluster.json']);
    expect((await readdir(root)).filter((name) => name !== '.tmp')).toEqual([]);
  });

  it('reports a missing repository folder as storageUnavailable, not as a missing object', async () => {
    const missing = createFsStorage({ path: join(root, 'not-there') });
    for (const attempt of [() => missing.get('k'), () => missing.put('k', Buffer.from('x'))]) {
      const error = await attempt().catch((rejection: unknown) => rejection);
      expect(isLifeboatError(error, 'storageUnavailable')).toBe(true);
    }
    const listing = (async () => {
      for await (const _ of missing.list('')) break;
    })();
    expect(isLifeboatError(await listing.catch((rejection: unknown) => rejection), 'storageUnavailable')).toBe(true);
  });
});
