// Stream helpers the unit tests share: feed a buffer in chunks of a chosen size, gather a stream's bytes, and a
// counting source of random data (to see how far a stream read ahead).
import { randomBytes } from 'node:crypto';
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

/** `totalBytes` of incompressible data in 1 MiB chunks, counting what has been pulled in `counter.bytes`. */
export function countingSource(totalBytes: number, counter: { bytes: number }): Readable {
  return Readable.from((function* () {
    for (let sent = 0; sent < totalBytes; sent += 1024 * 1024) {
      counter.bytes += 1024 * 1024;
      yield randomBytes(1024 * 1024);
    }
  })());
}
