// The process lock: exclusive while held, named holder in the refusal, and freed by the kernel when the holder
// dies (SIGKILL, no clean-up code runs).
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { isLifeboatError } from '../../src/errors/index.js';
import { acquireProcessLock, probeProcessLock } from '../../src/state/process-lock.js';

describe('process lock', () => {
  it('refuses a second holder, naming the first, and is free again after release', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'lifeboat-lock-'));
    const lock = await acquireProcessLock(folder, 'state', 'test holder');
    const error = await acquireProcessLock(folder, 'state', 'second').catch((e: unknown) => e);
    expect(isLifeboatError(error, 'locked')).toBe(true);
    expect((error as Error).message).toContain(`pid ${process.pid}, test holder`);
    expect((await probeProcessLock(folder, 'state'))?.pid).toBe(process.pid);
    // Another name on the same folder is another lock.
    const other = await acquireProcessLock(folder, 'backup-main', 'backup');
    await other.release();
    await lock.release();
    await lock.release();
    expect(await probeProcessLock(folder, 'state')).toBeUndefined();
    const again = await acquireProcessLock(folder, 'state', 'third');
    await again.release();
  });

  it('is released by the kernel when the holder is killed', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'lifeboat-lock-'));
    const script = `
      const net = require('node:net'); const crypto = require('node:crypto'); const fs = require('node:fs');
      const digest = crypto.createHash('sha256').update(fs.realpathSync(${JSON.stringify(folder)}) + '\\0state').digest('hex').slice(0, 40);
      net.createServer((s) => s.end(JSON.stringify({ pid: process.pid, purpose: 'child', since: '' })))
        .listen({ path: '\\0lifeboat-lock-' + digest, exclusive: true }, () => console.log('ready'));`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await once(child.stdout, 'data');
    const holder = await probeProcessLock(folder, 'state');
    expect(holder?.pid).toBe(child.pid);
    await expect(acquireProcessLock(folder, 'state', 'parent')).rejects.toThrow(`pid ${child.pid}`);
    child.kill('SIGKILL');
    await once(child, 'exit');
    const lock = await acquireProcessLock(folder, 'state', 'parent');
    await lock.release();
  });
});
