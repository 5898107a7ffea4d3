// The local key file: created private on first use and never overwritten, and refused with a keyFile error (and a
// hint saying what to do) when missing, readable by group or others, not a file, or not holding a 256-bit key.
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalKeyProvider, formatLocalKeyId, loadLocalKeyFile } from '../../src/crypto/index.js';
import { isLifeboatError, type LifeboatError } from '../../src/errors/index.js';

let folder: string;

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'lifeboat-keyfile-'));
});
afterEach(async () => {
  await rm(folder, { recursive: true, force: true });
});

async function keyFileError(path: string, createIfMissing = false): Promise<LifeboatError> {
  const error = await loadLocalKeyFile({ path, createIfMissing }).catch((e: unknown) => e);
  expect(isLifeboatError(error, 'keyFile')).toBe(true);
  return error as LifeboatError;
}

describe('local key file', () => {
  it('is created with mode 0600 and 32 random bytes in hex when missing and createIfMissing is set', async () => {
    const path = join(folder, 'nested', 'repo.key');
    const key = await loadLocalKeyFile({ path, createIfMissing: true });
    expect(key.length).toBe(32);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await readFile(path, 'utf8')).trim()).toMatch(/^[0-9a-f]{64}$/);
    // Loading again yields the same key; creating again never replaces it.
    expect((await loadLocalKeyFile({ path, createIfMissing: true })).equals(key)).toBe(true);
  });

  it('gives the provider a key id derived from the key', async () => {
    const path = join(folder, 'repo.key');
    const key = await loadLocalKeyFile({ path, createIfMissing: true });
    const provider = await createLocalKeyProvider({ path });
    expect(provider.keyId).toBe(formatLocalKeyId(key));
    expect(provider.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(provider.description).toContain(path);
  });

  it('accepts a base64 key', async () => {
    const path = join(folder, 'b64.key');
    const raw = Buffer.alloc(32, 9);
    await writeFile(path, `${raw.toString('base64')}\n`, { mode: 0o600 });
    expect((await loadLocalKeyFile({ path })).equals(raw)).toBe(true);
  });

  it('refuses a missing file, with a hint to restore or create it', async () => {
    const path = join(folder, 'missing.key');
    const error = await keyFileError(path);
    expect(error.message).toBe(`key file ${path} does not exist`);
    expect(error.hint).toMatch(/restore it from your key backup/);
    expect(error.hint).toContain(`openssl rand -hex 32 > ${path}`);
  });

  it('refuses a file readable by group or others, with a chmod hint', async () => {
    const path = join(folder, 'open.key');
    await writeFile(path, 'a'.repeat(64), { mode: 0o600 });
    await chmod(path, 0o640);
    const error = await keyFileError(path);
    expect(error.message).toBe(`key file ${path} is readable by group or others (mode 0640)`);
    expect(error.hint).toContain(`chmod 600 ${path}`);
    await chmod(path, 0o604);
    await keyFileError(path);
  });

  it('refuses malformed contents', async () => {
    for (const text of ['', 'abc', 'g'.repeat(64), 'a'.repeat(63), 'a'.repeat(66), Buffer.alloc(16).toString('base64'), 'x'.repeat(5000)]) {
      const path = join(folder, `bad-${text.length}.key`);
      await writeFile(path, text, { mode: 0o600 });
      const error = await keyFileError(path);
      expect(error.message).toBe(`key file ${path} does not hold a 256-bit key`);
    }
  });

  it('refuses a folder in place of the file', async () => {
    const path = join(folder, 'dir.key');
    await mkdir(path, { mode: 0o700 });
    expect((await keyFileError(path)).message).toBe(`key file ${path} is not a regular file`);
  });
});
