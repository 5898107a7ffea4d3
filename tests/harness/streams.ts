// Stream helpers the unit tests share: feed a buffer in chunks of a chosen size, and gather a stream's bytes.
import { Readable } from 'node:stream';

/** `data` as a stream of `chunkBytes`-sized chunks (the last one shorter). */
export function chunked(data: Buffer, chunkBytes: number): Readable {
  return Readable.from((function* () {
    for (let offset = 0; offset < data.length; offset += chunkBytes) yield data.subarray(offset, offset + chunkBytes);
  })());
}

/** Every byte `stream` yields, concatenated. */
export async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
