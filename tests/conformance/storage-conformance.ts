// The one behavioural suite every storage driver must pass (fs, s3 on moto, and any driver added later):
// the Storage contract in src/storage/storage.ts, checked through the interface only. A driver test file
// calls describeStorageConformance with a factory that builds a fresh, empty repository per test.
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLifeboatError, type ErrorCode } from '../../src/errors/index.js';
import type { ObjectInfo, Storage } from '../../src/storage/index.js';

/** A fresh, empty repository for one test, with the driver-specific hooks the suite needs. */
export interface StorageFixture {
  storage: Storage;
  /** Leaves what a writer killed mid-put leaves for `key`: a temp file (fs), an open multipart upload (s3). */
  leaveIncompleteWrite(key: string): Promise<void>;
  /** False when the backend cannot date leftovers (moto reports a fixed 2010 Initiated); skips the age test. */
  knowsIncompleteWriteAge?: boolean;
  /**
   * False when the backend evaluates create-only (If-None-Match: *) as check-then-store, so writers racing on
   * one key can both win (moto). The race test then asserts only what such a backend guarantees. Default true.
   */
  atomicCreateOnly?: boolean;
  /** Removes the repository and everything in it. */
  cleanup(): Promise<void>;
}

const MIB = 1024 * 1024;
/** Larger than any part size a driver may use in these tests (s3 fixtures use 5 MiB, S3's minimum). */
const MULTIPART_BYTES = 12 * MIB;

async function readBody(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function readText(storage: Storage, key: string): Promise<string> {
  return (await readBody(await storage.get(key))).toString('utf8');
}

async function listKeys(storage: Storage, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of storage.list(prefix)) keys.push(object.key);
  return keys;
}

/** Resolves with the LifeboatError `promise` rejects with, failing the test unless it has `code`. */
async function expectLifeboatError(promise: Promise<unknown>, code: ErrorCode): Promise<Error> {
  const error: unknown = await promise.then(
    () => undefined,
    (rejection: unknown) => rejection,
  );
  expect(error, `expected LifeboatError ${code}`).toBeInstanceOf(Error);
  expect(isLifeboatError(error) ? error.code : error).toBe(code);
  return error as Error;
}

/**
 * A body that produces `stallAfterBytes` of random data in 1 MiB chunks, then waits for the test to act.
 * `stalled` resolves once the consumer has asked for more than that, i.e. it has taken everything offered.
 */
function stallingBody(stallAfterBytes: number): { body: Readable; stalled: Promise<void> } {
  let produced = 0;
  let onStall: () => void = () => undefined;
  const stalled = new Promise<void>((resolve) => (onStall = resolve));
  const body = new Readable({
    highWaterMark: 64 * 1024,
    read() {
      if (produced >= stallAfterBytes) {
        onStall();
        return;
      }
      const size = Math.min(MIB, stallAfterBytes - produced);
      produced += size;
      this.push(randomBytes(size));
    },
  });
  return { body, stalled };
}

/** A body of `totalBytes` random bytes in 1 MiB chunks; `digest()` gives the SHA-256 of what was produced. */
function generatedBody(totalBytes: number): { body: Readable; digest(): string } {
  const hash = createHash('sha256');
  let produced = 0;
  const body = new Readable({
    read() {
      if (produced >= totalBytes) {
        this.push(null);
        return;
      }
      const chunk = randomBytes(Math.min(MIB, totalBytes - produced));
      produced += chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { body, digest: () => hash.copy().digest('hex') };
}

/** Runs the storage conformance suite against the repositories `factory` creates (one per test). */
export function describeStorageConformance(name: string, factory: () => Promise<StorageFixture>): void {
  describe(`storage conformance: ${name}`, () => {
    let fixture: StorageFixture;
    let storage: Storage;

    beforeEach(async () => {
      fixture = await factory();
      storage = fixture.storage;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    /** Nothing visible and nothing half-written left: the promise every failed or aborted put makes. */
    async function expectNothingLeftBehind(): Promise<void> {
      expect(await listKeys(storage, '')).toEqual([]);
      expect(await storage.cleanupIncompleteWrites(0)).toBe(0);
    }

    describe('put and get', () => {
      it('round-trips a Buffer body and reports its size', async () => {
        const result = await storage.put('dir/buffer.bin', Buffer.from('hello buffer'));
        expect(result).toEqual({ key: 'dir/buffer.bin', sizeBytes: 12 });
        expect(await readText(storage, 'dir/buffer.bin')).toBe('hello buffer');
      });

      it('round-trips a stream body of several chunks', async () => {
        const result = await storage.put('dir/stream.txt', Readable.from([Buffer.from('one '), Buffer.from('two '), Buffer.from('three')]));
        expect(result.sizeBytes).toBe(13);
        expect(await readText(storage, 'dir/stream.txt')).toBe('one two three');
      });

      it('stores empty objects from a Buffer and from a stream', async () => {
        await storage.put('empty/buffer', Buffer.alloc(0));
        await storage.put('empty/stream', Readable.from([]));
        for (const key of ['empty/buffer', 'empty/stream']) {
          expect((await readBody(await storage.get(key))).length).toBe(0);
          expect((await storage.head(key))?.sizeBytes).toBe(0);
        }
        expect((await collect(storage.list('empty/'))).map((o) => [o.key, o.sizeBytes])).toEqual([
          ['empty/buffer', 0],
          ['empty/stream', 0],
        ]);
      });

      it('streams a 40 MiB body intact (multipart on s3)', async () => {
        const { body, digest } = generatedBody(40 * MIB);
        const result = await storage.put('large/forty.bin', body);
        expect(result.sizeBytes).toBe(40 * MIB);
        expect((await storage.head('large/forty.bin'))?.sizeBytes).toBe(40 * MIB);
        const hash = createHash('sha256');
        for await (const chunk of await storage.get('large/forty.bin')) hash.update(chunk as Buffer);
        expect(hash.digest('hex')).toBe(digest());
      });

      it('round-trips a key with spaces and punctuation', async () => {
        const key = 'odd/with space+plus=equals,comma@at~tilde(paren)';
        await storage.put(key, Buffer.from('odd'));
        expect(await readText(storage, key)).toBe('odd');
        expect(await listKeys(storage, 'odd/')).toEqual([key]);
      });
    });

    describe('create-only puts', () => {
      it('succeeds once, then fails with objectExists and keeps the original', async () => {
        await storage.put('once/object', Buffer.from('original'), { createOnly: true });
        const error = await expectLifeboatError(storage.put('once/object', Buffer.from('replacement'), { createOnly: true }), 'objectExists');
        expect(error.message).toContain('once/object');
        expect(await readText(storage, 'once/object')).toBe('original');
      });

      it('refuses a multipart-sized stream over an existing object and leaves no upload behind', async () => {
        await storage.put('once/large', Buffer.from('original'), { createOnly: true });
        await expectLifeboatError(storage.put('once/large', generatedBody(MULTIPART_BYTES).body, { createOnly: true }), 'objectExists');
        expect(await readText(storage, 'once/large')).toBe('original');
        expect(await storage.cleanupIncompleteWrites(0)).toBe(0);
      });

      it('lets exactly one of several racing writers win', async () => {
        const contents = Array.from({ length: 8 }, (_, index) => Buffer.from(`writer ${index} `.repeat(100)));
        const results = await Promise.allSettled(contents.map((body) => storage.put('race/object', body, { createOnly: true })));
        const winners = results.flatMap((result, index) => (result.status === 'fulfilled' ? [index] : []));
        for (const result of results) {
          if (result.status === 'rejected') expect(isLifeboatError(result.reason, 'objectExists')).toBe(true);
        }
        const stored = await readText(storage, 'race/object');
        if (fixture.atomicCreateOnly === false) {
          // Check-then-store backends guarantee less: someone wins, every loser is told objectExists, the object
          // is one winner's whole body (never a mix), and a write after the race is refused.
          expect(winners.length).toBeGreaterThanOrEqual(1);
          expect(winners.map((index) => contents[index]!.toString())).toContain(stored);
          await expectLifeboatError(storage.put('race/object', Buffer.from('late'), { createOnly: true }), 'objectExists');
          return;
        }
        expect(winners).toHaveLength(1);
        expect(stored).toBe(contents[winners[0] ?? -1]?.toString());
      });

      it('overwrites when create-only is not asked for', async () => {
        await storage.put('over/object', Buffer.from('first'));
        await storage.put('over/object', Buffer.from('second, longer'));
        expect(await readText(storage, 'over/object')).toBe('second, longer');
        expect((await storage.head('over/object'))?.sizeBytes).toBe(14);
      });
    });

    describe('missing objects', () => {
      it('get throws objectNotFound naming the key', async () => {
        const error = await expectLifeboatError(storage.get('no/such/key'), 'objectNotFound');
        expect(error.message).toContain('no/such/key');
      });

      it('head returns undefined, and the size and date of an existing object', async () => {
        expect(await storage.head('no/such/key')).toBeUndefined();
        await storage.put('head/object', Buffer.from('12345'));
        const info = await storage.head('head/object');
        expect(info?.key).toBe('head/object');
        expect(info?.sizeBytes).toBe(5);
        expect(info?.lastModified).toBeInstanceOf(Date);
        expect(Math.abs((info?.lastModified.getTime() ?? 0) - Date.now())).toBeLessThan(3_600_000);
      });
    });

    describe('ranged get', () => {
      const content = Buffer.from(Array.from({ length: 100 }, (_, index) => index));

      it('returns the inclusive range, clamping an end past the object', async () => {
        await storage.put('range/object', content);
        expect(await readBody(await storage.get('range/object', { range: { start: 10, end: 19 } }))).toEqual(content.subarray(10, 20));
        expect(await readBody(await storage.get('range/object', { range: { start: 99, end: 99 } }))).toEqual(content.subarray(99));
        expect(await readBody(await storage.get('range/object', { range: { start: 90, end: 1000 } }))).toEqual(content.subarray(90));
      });

      it('throws objectTruncated for a range starting past the end', async () => {
        await storage.put('range/object', content);
        await expectLifeboatError(storage.get('range/object', { range: { start: 100, end: 199 } }), 'objectTruncated');
      });
    });

    describe('list', () => {
      it('lists in key byte order, filtered by prefix, with sizes and keys relative to the repository', async () => {
        const keys = ['b/2', 'a/b', 'a-c', 'a/a/x', 'b/10', 'c', 'a/bb'];
        for (const key of keys) await storage.put(key, Buffer.from(key));
        expect(await listKeys(storage, '')).toEqual(['a-c', 'a/a/x', 'a/b', 'a/bb', 'b/10', 'b/2', 'c']);
        expect(await listKeys(storage, 'a/')).toEqual(['a/a/x', 'a/b', 'a/bb']);
        expect(await listKeys(storage, 'a')).toEqual(['a-c', 'a/a/x', 'a/b', 'a/bb']);
        expect(await listKeys(storage, 'a/b')).toEqual(['a/b', 'a/bb']);
        expect(await listKeys(storage, 'b/1')).toEqual(['b/10']);
        const sizes = (await collect(storage.list('b/'))).map((object) => object.sizeBytes);
        expect(sizes).toEqual([4, 3]);
      });

      it('lists a prefix with nothing under it as empty', async () => {
        await storage.put('present/object', Buffer.from('x'));
        expect(await listKeys(storage, 'absent/')).toEqual([]);
        expect(await listKeys(storage, 'presentx')).toEqual([]);
        expect(await listKeys(storage, 'present/object/')).toEqual([]);
      });

      it('pages through many keys in order, and can stop early', async () => {
        const keys = Array.from({ length: 25 }, (_, index) => `many/key-${String(index).padStart(3, '0')}`);
        for (const key of [...keys].reverse()) await storage.put(key, Buffer.from('.'));
        expect(await listKeys(storage, 'many/')).toEqual(keys);
        const firstThree: string[] = [];
        for await (const object of storage.list('many/')) {
          firstThree.push(object.key);
          if (firstThree.length === 3) break;
        }
        expect(firstThree).toEqual(keys.slice(0, 3));
      });
    });

    describe('delete', () => {
      it('deletes a batch, ignoring keys that do not exist', async () => {
        for (const key of ['del/1', 'del/2', 'del/3', 'del/sub/4']) await storage.put(key, Buffer.from(key));
        await storage.delete(['del/1', 'del/missing', 'del/3', 'del/sub/4', 'never/there']);
        expect(await listKeys(storage, '')).toEqual(['del/2']);
        await storage.delete(['del/1', 'del/2']);
        await storage.delete([]);
        expect(await listKeys(storage, '')).toEqual([]);
      });
    });

    describe('failed and aborted puts', () => {
      for (const [label, stallAfterBytes] of [['small', 1024], ['multipart-sized', MULTIPART_BYTES]] as const) {
        it(`an abort during a ${label} stream rejects with aborted and leaves nothing`, async () => {
          const { body, stalled } = stallingBody(stallAfterBytes);
          const controller = new AbortController();
          const put = storage.put('aborted/object', body, { signal: controller.signal, createOnly: true });
          await stalled;
          controller.abort();
          await expectLifeboatError(put, 'aborted');
          await expectNothingLeftBehind();
        });

        it(`a ${label} body stream failing mid-way rejects with its error and leaves nothing`, async () => {
          const { body, stalled } = stallingBody(stallAfterBytes);
          const put = storage.put('failed/object', body);
          await stalled;
          body.destroy(new Error('producer broke'));
          await expect(put).rejects.toThrow('producer broke');
          await expectNothingLeftBehind();
        });
      }

      it('a put whose signal already fired writes nothing', async () => {
        await expectLifeboatError(storage.put('aborted/early', Buffer.from('x'), { signal: AbortSignal.abort() }), 'aborted');
        await expectNothingLeftBehind();
      });

      it('aborting a get ends its stream with an error', async () => {
        await storage.put('get/abort', randomBytes(4 * MIB));
        const controller = new AbortController();
        const stream = await storage.get('get/abort', { signal: controller.signal });
        const reading = readBody(stream);
        controller.abort();
        await expect(reading).rejects.toThrow();
      });
    });

    describe('cleanupIncompleteWrites', () => {
      it('removes leftovers of interrupted writes and counts them', async () => {
        await fixture.leaveIncompleteWrite('left/over');
        expect(await storage.cleanupIncompleteWrites(0)).toBe(1);
        expect(await storage.cleanupIncompleteWrites(0)).toBe(0);
        expect(await listKeys(storage, '')).toEqual([]);
      });

      it('keeps leftovers younger than the threshold', async (context) => {
        if (fixture.knowsIncompleteWriteAge === false) context.skip('the backend reports no real age for leftovers');
        await fixture.leaveIncompleteWrite('left/young');
        expect(await storage.cleanupIncompleteWrites(3_600_000)).toBe(0);
        // A file's mtime comes from the kernel's clock with sub-millisecond digits: in the same millisecond it can
        // read as newer than Date.now(). Let one pass so that "older than 0 ms" is true of it.
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(await storage.cleanupIncompleteWrites(0)).toBe(1);
      });
    });

    describe('key validation', () => {
      it.each(['', '../escape', 'a/../b', './a', '/absolute', 'a//b', 'trailing/', 'back\\slash', 'nul\u0000byte'])(
        'rejects the key %j before touching the store',
        async (key) => {
          await expectLifeboatError(storage.put(key, Buffer.from('x')), 'internal');
          await expectLifeboatError(storage.get(key), 'internal');
          await expectLifeboatError(storage.head(key), 'internal');
          await expectLifeboatError(storage.delete([key]), 'internal');
        },
      );

      it('destroys the body stream of a put that fails', async () => {
        const body = Readable.from([Buffer.from('never stored')]);
        await expectLifeboatError(storage.put('../escape', body), 'internal');
        expect(body.destroyed).toBe(true);
      });

      it('rejects list prefixes that climb out of the repository', async () => {
        await expectLifeboatError(collect(storage.list('../')), 'internal');
        await expectLifeboatError(collect(storage.list('/abs')), 'internal');
      });
    });
  });
}

async function collect(iterable: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const objects: ObjectInfo[] = [];
  for await (const object of iterable) objects.push(object);
  return objects;
}
