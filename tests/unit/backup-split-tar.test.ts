// The tar splitter against archives made by GNU tar: every part is a valid archive, members are never cut,
// long-name and pax headers stay with their member, and named members are captured.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { splitTarStream } from '../../src/backup/split-tar-stream.js';

function makeTree(): string {
  const root = mkdtempSync(join(tmpdir(), 'lifeboat-tar-'));
  const dir = join(root, 'data');
  mkdirSync(join(dir, 'base', '1'), { recursive: true });
  for (let i = 0; i < 20; i++) writeFileSync(join(dir, 'base', '1', `file${i}`), Buffer.alloc(1000 * (i + 1), i));
  writeFileSync(join(dir, 'backup_label'), 'START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n');
  const longDir = join(dir, 'a'.repeat(60), 'b'.repeat(60));
  mkdirSync(longDir, { recursive: true });
  writeFileSync(join(longDir, 'c'.repeat(90)), 'long name content');
  return dir;
}

function tarOf(dir: string, format: string): Buffer {
  return execFileSync('tar', [`--format=${format}`, '-C', dir, '-cf', '-', '.'], { maxBuffer: 1 << 26 });
}

async function split(tar: Buffer, targetPartBytes: number) {
  const parts: Buffer[] = [];
  const result = await splitTarStream(Readable.from([tar.subarray(0, 700), tar.subarray(700, 5000), tar.subarray(5000)]), {
    targetPartBytes,
    capture: { names: ['./backup_label'], maxBytes: 1024 },
    onPart: async ({ partNumber, stream }) => {
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      parts[partNumber - 1] = Buffer.concat(chunks);
    },
  });
  return { parts, result };
}

function listTar(tar: Buffer): string[] {
  return execFileSync('tar', ['-tf', '-'], { input: tar, encoding: 'utf8' }).split('\n').filter(Boolean);
}

describe('splitTarStream', () => {
  for (const format of ['gnu', 'pax']) {
    it(`splits a ${format} archive into valid parts without losing or cutting members`, async () => {
      const dir = makeTree();
      const tar = tarOf(dir, format);
      const { parts, result } = await split(tar, 8 * 1024);
      expect(result.parts).toBeGreaterThan(3);
      expect(parts).toHaveLength(result.parts);
      const members = parts.flatMap(listTar);
      expect(members).toEqual(listTar(tar));
      // Extract every part into one folder and compare a file byte for byte.
      const out = mkdtempSync(join(tmpdir(), 'lifeboat-untar-'));
      for (const part of parts) execFileSync('tar', ['-xf', '-', '-C', out], { input: part });
      expect(readFileSync(join(out, 'base/1/file7'))).toEqual(readFileSync(join(dir, 'base/1/file7')));
      expect(readFileSync(join(out, 'a'.repeat(60), 'b'.repeat(60), 'c'.repeat(90)), 'utf8')).toBe('long name content');
      expect(result.captured.get('./backup_label')?.toString()).toContain('START WAL LOCATION: 0/2000028');
    });
  }

  it('keeps a single part when the target is larger than the archive', async () => {
    const tar = tarOf(makeTree(), 'gnu');
    const { parts } = await split(tar, 1 << 30);
    expect(parts).toHaveLength(1);
    expect(listTar(parts[0]!)).toEqual(listTar(tar));
  });

  it('fails on a stream that ends without an end-of-archive marker', async () => {
    const tar = tarOf(makeTree(), 'gnu');
    await expect(split(tar.subarray(0, 20_000), 1 << 30)).rejects.toThrow(/ended without an end-of-archive marker/);
  });

  it('fails loudly on a corrupt header', async () => {
    const tar = Buffer.from(tarOf(makeTree(), 'gnu'));
    tar[10] = tar[10]! ^ 0xff;
    await expect(split(tar, 1 << 30)).rejects.toThrow(/bad checksum/);
  });

  it('stops when storing a part fails, and reports that failure', async () => {
    const tar = tarOf(makeTree(), 'gnu');
    let calls = 0;
    const run = splitTarStream(Readable.from([tar]), {
      targetPartBytes: 4096,
      onPart: async ({ stream }) => {
        calls += 1;
        if (calls === 2) throw new Error('upload refused');
        for await (const _ of stream) void _;
      },
    });
    await expect(run).rejects.toThrow('upload refused');
  });
});
