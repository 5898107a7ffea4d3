// The JSON metadata helpers shared by all drivers (run here on the fs driver): validation errors name the
// key and the failing field, oversized objects are refused, create-only writes never replace.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isLifeboatError, type LifeboatError } from '../../src/errors/index.js';
import { collectList, createFsStorage, exists, loadJson, readAll, storeJson, type Storage } from '../../src/storage/index.js';

const manifestSchema = z.object({ version: z.literal(1), files: z.array(z.object({ name: z.string(), sizeBytes: z.number() })) });

async function rejection(promise: Promise<unknown>): Promise<LifeboatError> {
  const error: unknown = await promise.then(() => undefined, (reason: unknown) => reason);
  if (!isLifeboatError(error)) throw new Error(`expected a LifeboatError, got ${String(error)}`);
  return error;
}

describe('json objects', () => {
  let root: string;
  let storage: Storage;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'lifeboat-json-'));
    storage = createFsStorage({ path: root });
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('stores and loads a validated value', async () => {
    const manifest = { version: 1 as const, files: [{ name: 'base', sizeBytes: 10 }] };
    await storeJson(storage, 'm.json', manifest, { createOnly: true });
    expect(await loadJson(storage, 'm.json', manifestSchema)).toEqual(manifest);
    expect(await exists(storage, 'm.json')).toBe(true);
    expect(await exists(storage, 'other.json')).toBe(false);
  });

  it('refuses to replace with createOnly, and replaces without it', async () => {
    await storeJson(storage, 'm.json', { a: 1 }, { createOnly: true });
    expect((await rejection(storeJson(storage, 'm.json', { a: 2 }, { createOnly: true }))).code).toBe('objectExists');
    await storeJson(storage, 'm.json', { a: 3 });
    expect(await loadJson(storage, 'm.json', z.object({ a: z.number() }))).toEqual({ a: 3 });
  });

  it('names the key and the failing field when the object does not match', async () => {
    await storeJson(storage, 'clusters/x/m.json', { version: 1, files: [{ name: 'a', sizeBytes: 1 }, { name: 'b', sizeBytes: 'big' }] });
    const error = await rejection(loadJson(storage, 'clusters/x/m.json', manifestSchema));
    expect(error.code).toBe('objectCorrupted');
    expect(error.message).toContain('"clusters/x/m.json"');
    expect(error.message).toContain('files[1].sizeBytes');
  });

  it('reports invalid JSON, missing objects and oversized objects', async () => {
    await storage.put('bad.json', Buffer.from('{"version": 1,'));
    expect((await rejection(loadJson(storage, 'bad.json', manifestSchema))).message).toContain('is not valid JSON');
    expect((await rejection(loadJson(storage, 'missing.json', manifestSchema))).code).toBe('objectNotFound');
    await storeJson(storage, 'big.json', { version: 1, files: [], pad: 'x'.repeat(2000) });
    const error = await rejection(loadJson(storage, 'big.json', manifestSchema, { maxBytes: 1000 }));
    expect(error.code).toBe('objectCorrupted');
    expect(error.message).toContain('1000-byte limit');
  });

  it('readAll caps what it reads and destroys the stream', async () => {
    expect((await readAll(Readable.from([Buffer.from('ab'), Buffer.from('cd')]), 4)).toString()).toBe('abcd');
    const stream = Readable.from([Buffer.alloc(3), Buffer.alloc(3)]);
    expect((await rejection(readAll(stream, 5, 'the thing'))).message).toBe('the thing is larger than the 5-byte limit');
    expect(stream.destroyed).toBe(true);
  });

  it('collectList gathers a listing and refuses to grow past its limit', async () => {
    for (const key of ['p/1', 'p/2', 'p/3']) await storage.put(key, Buffer.from(key));
    expect((await collectList(storage, 'p/')).map((object) => object.key)).toEqual(['p/1', 'p/2', 'p/3']);
    expect((await rejection(collectList(storage, 'p/', { limit: 2 }))).code).toBe('internal');
  });
});
