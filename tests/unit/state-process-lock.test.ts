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

describe('process lock holder', () => {
  it('survives an asker that hangs up before the answer (the holder was stopped while it asked)', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'lifeboat-lock-'));
    const script = `
      const { acquireProcessLock } = await import(${JSON.stringify(new URL('../../dist/state/process-lock.js', import.meta.url).href)});
      await acquireProcessLock(${JSON.stringify(folder)}, 'state', 'stopped holder');
      console.log('ready');
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    try {
      await once(child.stdout, 'data');
      // Stopped, the holder cannot answer: the asker times out and hangs up; resumed, the holder writes into a closed
      // connection (EPIPE) and must keep running and holding the lock.
      child.kill('SIGSTOP');
      const askers = Array.from({ length: 3 }, () => probeProcessLock(folder, 'state'));
      for (const asked of await Promise.all(askers)) expect(asked?.purpose).toContain('did not answer');
      child.kill('SIGCONT');
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(child.exitCode, stderr).toBeNull();
      expect((await probeProcessLock(folder, 'state'))?.pid).toBe(child.pid);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
