// How upload bodies are cut into multipart parts: exact sizes, the last part flagged without an extra
// round, empty bodies, and stream errors surfacing unchanged.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { splitIntoParts, type BodyPart } from '../../src/storage/split-into-parts.js';

async function collect(parts: AsyncIterable<BodyPart>): Promise<Array<[number, boolean]>> {
  const sizes: Array<[number, boolean]> = [];
  for await (const part of parts) sizes.push([part.data.length, part.isLast]);
  return sizes;
}

function chunked(totalBytes: number, chunkBytes: number): Readable {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < totalBytes; offset += chunkBytes) chunks.push(Buffer.alloc(Math.min(chunkBytes, totalBytes - offset), offset % 251));
  return Readable.from(chunks);
}

describe('splitIntoParts', () => {
  it.each([
    ['a stream not ending on a part boundary', 25, 4, [[10, false], [10, false], [5, true]]],
    ['a stream ending exactly on a part boundary', 20, 3, [[10, false], [10, true]]],
    ['a stream smaller than one part', 7, 3, [[7, true]]],
    ['a stream of chunks larger than a part', 25, 13, [[10, false], [10, false], [5, true]]],
  ] as const)('cuts %s', async (_label, total, chunk, expected) => {
    expect(await collect(splitIntoParts(chunked(total, chunk), 10))).toEqual(expected);
  });

  it('keeps the bytes in order across part boundaries', async () => {
    const source = Buffer.from(Array.from({ length: 2_000_000 }, (_, index) => index % 253));
    const parts: Buffer[] = [];
    for await (const part of splitIntoParts(Readable.from([source.subarray(0, 700_000), source.subarray(700_000)]), 1_500_000)) parts.push(part.data);
    expect(Buffer.concat(parts).equals(source)).toBe(true);
  });

  it('yields one empty last part for an empty stream or buffer', async () => {
    expect(await collect(splitIntoParts(Readable.from([]), 10))).toEqual([[0, true]]);
    expect(await collect(splitIntoParts(Buffer.alloc(0), 10))).toEqual([[0, true]]);
  });

  it('slices buffers without copying', async () => {
    const body = Buffer.alloc(25);
    const parts: Buffer[] = [];
    for await (const part of splitIntoParts(body, 10)) parts.push(part.data);
    expect(parts.map((part) => part.length)).toEqual([10, 10, 5]);
    expect(parts.every((part) => part.buffer === body.buffer)).toBe(true);
  });

  it('throws the stream error unchanged and destroys the stream when abandoned', async () => {
    const failing = new Readable({ read() { this.destroy(new Error('disk read failed')); } });
    await expect(collect(splitIntoParts(failing, 10))).rejects.toThrow('disk read failed');
    const endless = new Readable({ read() { this.push(Buffer.alloc(10)); } });
    for await (const _part of splitIntoParts(endless, 10)) break;
    expect(endless.destroyed).toBe(true);
  });
});
