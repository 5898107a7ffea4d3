// The heap tuning for streams (src/compress/heap-tuning.ts, applied first thing by bin/lifeboat.js): reading a large object runs (almost) no
// full collections. With V8's defaults the same read ran 22-27 of them per 256 MiB in a fresh process on Node 20,
// 23 on Node 24; tuned, 0-1 on Node 20 and 7-8 on Node 24, whose V8 (13.6) starts incremental marking for external
// memory on its own. Those 7-8 cost ~3 ms each on an 11 MB heap (the read took 1.8 s), so the bound is 12: above
// what Node 24 runs tuned, well below what it runs untuned.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCliBuilt } from '../harness/wal-archiver-runner.js';

const CHILD = join(process.cwd(), 'tests', 'harness', 'heap-child.mjs');
let dir: string;

beforeAll(async () => {
  // The child runs the built code in a fresh process: vitest's own heap is far larger than a CLI's.
  ensureCliBuilt();
  dir = await mkdtemp(join(tmpdir(), 'lifeboat-heap-'));
  await mkdir(join(dir, 'repo'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('heap tuning for streams', () => {
  it('reads 256 MiB back with at most a few full collections', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [CHILD, dir, '256'], { maxBuffer: 1024 * 1024 });
    const result = JSON.parse(stdout) as { plaintextBytes: number; majorCollections: number };
    expect(result.plaintextBytes).toBe(256 * 1024 * 1024);
    expect(result.majorCollections).toBeLessThanOrEqual(12);
  }, 120_000);
});
