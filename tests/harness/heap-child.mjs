// Child process for the heap test (a fresh process runs the built dist/, tuned first thing as bin/lifeboat.js does,
// so its heap is a CLI's, not vitest's):
// writes SIZE_MIB of generated data (~2x compressible) to an fs repository in DIR, reads it back through readObject
// with both checksums verified, and prints { plaintextBytes, majorCollections } as JSON, counting the full
// (mark-compact) collections that ran during the read.
import { randomBytes } from 'node:crypto';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { tuneHeapForStreams } from '../../dist/compress/heap-tuning.js';

tuneHeapForStreams();
const { shutdownZstdPool } = await import('../../dist/compress/index.js');
const { createDecryptionSession, createEncryptionSession, createLocalKeyProvider } = await import('../../dist/crypto/index.js');
const { readObject, writeObject } = await import('../../dist/pipeline/index.js');
const { createStorage } = await import('../../dist/storage/index.js');

const [dir, sizeMiB] = process.argv.slice(2);
const MIB = 1024 * 1024;

let majorCollections = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majorCollections++;
}).observe({ entryTypes: ['gc'] });

/** Random letters from a 16-letter alphabet: 4 bits of entropy per byte. */
function* blocks() {
  for (let i = 0; i < Number(sizeMiB); i++) {
    const block = randomBytes(MIB);
    for (let j = 0; j < block.length; j++) block[j] = 97 + (block[j] & 15);
    yield block;
  }
}

const storage = createStorage({ driver: 'fs', path: `${dir}/repo` });
const keys = await createLocalKeyProvider({ path: `${dir}/key`, createIfMissing: true });
const scope = { cluster: 'heap', family: 'base', backupId: 'heap' };
const stored = await writeObject({ storage, key: 'object', source: Readable.from(blocks()), compression: { algorithm: 'zstd', level: 1 }, session: createEncryptionSession(keys, { scope }) });
const before = majorCollections;
let plaintextBytes = 0;
const sink = new Writable({
  write(chunk, _encoding, callback) {
    plaintextBytes += chunk.length;
    callback();
  },
});
await pipeline(readObject({ storage, key: 'object', session: createDecryptionSession(keys, {}), expected: stored }), sink);
// GC entries are delivered asynchronously.
await sleep(100);
console.log(JSON.stringify({ plaintextBytes, majorCollections: majorCollections - before }));
keys.close();
await shutdownZstdPool();
