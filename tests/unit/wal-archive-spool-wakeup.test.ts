// The archiver's loop wakes when pg_receivewal completes a segment (renames <segment>.partial to <segment>), not
// for writes into the growing partial, and a wake that comes between two waits is not lost.
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SpoolWakeup } from '../../src/backup/wal-archive/spool-wakeup.js';

const SEGMENT = '000000010000000000000007';
const cleanups: (() => void)[] = [];

function spool(): { dir: string; wakeup: SpoolWakeup } {
  const dir = mkdtempSync(join(tmpdir(), 'lb-spool-wakeup-'));
  const wakeup = new SpoolWakeup(dir);
  cleanups.push(() => {
    wakeup.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, wakeup };
}

async function timed(wait: Promise<void>): Promise<number> {
  const started = performance.now();
  await wait;
  return performance.now() - started;
}

afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

describe('SpoolWakeup', () => {
  it('ends a wait when a segment is completed, and not for writes into the partial', async () => {
    const { dir, wakeup } = spool();
    const signal = new AbortController().signal;
    writeFileSync(join(dir, `${SEGMENT}.partial`), Buffer.alloc(4096));
    // Only the partial grows: the wait runs to its end.
    const growing = wakeup.wait(400, signal);
    writeFileSync(join(dir, `${SEGMENT}.partial`), Buffer.alloc(8192));
    expect(await timed(growing)).toBeGreaterThanOrEqual(350);
    // Completed: the wait ends long before its 5 s.
    const completing = wakeup.wait(5000, signal);
    setTimeout(() => renameSync(join(dir, `${SEGMENT}.partial`), join(dir, SEGMENT)), 50);
    expect(await timed(completing)).toBeLessThan(2000);
  });

  it('keeps a wake that came between two waits, once, and ends a wait on abort', async () => {
    const { wakeup } = spool();
    const controller = new AbortController();
    wakeup.wake();
    expect(await timed(wakeup.wait(5000, controller.signal))).toBeLessThan(100);
    expect(await timed(wakeup.wait(200, controller.signal))).toBeGreaterThanOrEqual(150);
    setTimeout(() => controller.abort(), 50);
    expect(await timed(wakeup.wait(5000, controller.signal))).toBeLessThan(2000);
  });
});
