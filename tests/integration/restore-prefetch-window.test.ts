// A restore whose WAL is several times larger than its prefetch window: sampled throughout the restore, the
// prefetch folder never holds more than the window; replay still gets (nearly) every segment from it through the
// restore_command script, and the restored server holds exactly what the source held.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRestoreRunner, type RestoreRunner } from '../harness/restore-runner.js';
import { startRestoreSource, type RestoreSource } from '../harness/restore-source.js';
import { ensureCliBuilt } from '../harness/wal-archiver-runner.js';

const WINDOW_MIB = 32;
const SEGMENT_BYTES = 16 * 1024 * 1024;

let source: RestoreSource;
let runner: RestoreRunner;
let expected: { rows: string; total: string };

/** Bytes in `folder` now (every file, temp files included); 0 when it does not exist. */
function folderBytes(folder: string): number {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return 0;
  }
  return names.reduce((sum, name) => sum + (statSync(join(folder, name), { throwIfNoEntry: false })?.size ?? 0), 0);
}

const FILLER_SQL = 'select count(*)::text as rows, sum(length(pad) + n)::text as total from filler';

beforeAll(async () => {
  ensureCliBuilt();
  source = await startRestoreSource();
  await source.fullBackup();
  // About 8 segments of WAL after the backup, in several transactions.
  await source.pg.query('create table filler (n int, pad text)');
  for (let batch = 0; batch < 4; batch++) await source.pg.query(`insert into filler select g, repeat(md5(g::text), 4) from generate_series(${batch * 150_000 + 1}, ${(batch + 1) * 150_000}) g`);
  expected = (await source.pg.query<{ rows: string; total: string }>(FILLER_SQL))[0]!;
  await source.archiveAllAndStop();
  const { fixture, repository, log, pg } = source;
  runner = createRestoreRunner({
    config: { ...fixture.config, restore: { prefetchWindowMiB: WINDOW_MIB } },
    storage: repository.storage,
    keys: repository.keys,
    log,
    baseDir: join(fixture.dir, 'restores'),
    superuser: pg.superuser,
    bindir: pg.bindir,
  });
}, 240_000);

afterAll(async () => {
  await runner?.stopAll();
  await source?.stop();
});

describe('restore with a prefetch window smaller than its WAL', () => {
  it('never holds more than the window in the prefetch folder and restores exactly', async () => {
    const targetDir = join(source.fixture.dir, 'restores', 'windowed');
    const prefetchDir = `${targetDir}.lifeboat-restore/prefetch`;
    let maxBytes = 0;
    let samples = 0;
    const sampler = setInterval(() => {
      maxBytes = Math.max(maxBytes, folderBytes(prefetchDir));
      samples++;
    }, 2);
    const restored = await runner.restore({ name: 'windowed', latest: true, start: true }).finally(() => clearInterval(sampler));
    try {
      const { plan, walServed, prefetchBytes } = restored.result;
      expect(plan.wal.length).toBeGreaterThanOrEqual(5);
      expect(prefetchBytes).toBe(WINDOW_MIB * 1024 * 1024);
      expect(samples).toBeGreaterThan(100);
      expect(maxBytes).toBeGreaterThanOrEqual(SEGMENT_BYTES);
      expect(maxBytes).toBeLessThanOrEqual(WINDOW_MIB * 1024 * 1024);
      // Nearly every planned segment came out of the folder, served by the script without starting Node.
      expect(walServed, 'walServed').toBeDefined();
      expect(walServed!.plannedMisses.length, walServed!.plannedMisses.join(', ')).toBeLessThanOrEqual(1);
      expect(walServed!.fromPrefetch).toBeGreaterThanOrEqual(plan.wal.length - 1);
      expect((await runner.query<{ rows: string; total: string }>(restored, FILLER_SQL))[0]).toEqual(expected);
    } finally {
      await runner.stop(restored);
    }
  });
});
