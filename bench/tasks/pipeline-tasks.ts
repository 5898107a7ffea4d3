// Child-side pipeline tasks: one writeObject of a file (plaintext -> zstd/gzip -> encryption -> storage) and one
// readObject of it back into a discarding sink, each timed around the call alone (module loading excluded).
import { createReadStream } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createDecryptionSession, createEncryptionSession } from '../../src/crypto/index.js';
import { fileSource, readObject, writeObject, type StoredObject } from '../../src/pipeline/index.js';
import { openBenchKeys, openBenchStorage, type BenchKeys, type BenchTarget } from './open-bench-target.js';

export interface PipelineWriteParams {
  file: string;
  target: BenchTarget;
  keys: BenchKeys;
  compression: { algorithm: 'zstd' | 'gzip'; level: number };
  key: string;
  /** Read the file as a stream of chunks of this size instead of straight into the compressor's blocks. */
  chunkBytes?: number;
}

export interface PipelineWriteResult {
  stored: StoredObject;
  seconds: number;
}

export async function runPipelineWrite(params: PipelineWriteParams): Promise<PipelineWriteResult> {
  const storage = openBenchStorage(params.target);
  const keys = await openBenchKeys(params.keys);
  const session = createEncryptionSession(keys, { scope: { cluster: 'bench', family: 'base', backupId: 'bench' } });
  try {
    const started = performance.now();
    // The file goes straight into the compressor's blocks, as WAL segments do; chunkBytes measures a stream instead.
    const source = params.chunkBytes === undefined ? fileSource(params.file) : createReadStream(params.file, { highWaterMark: params.chunkBytes });
    const stored = await writeObject({ storage, key: params.key, source, compression: params.compression, session });
    return { stored, seconds: (performance.now() - started) / 1000 };
  } finally {
    session.close();
    keys.close();
  }
}

export interface PipelineReadParams {
  target: BenchTarget;
  keys: BenchKeys;
  stored: StoredObject;
  /** Delete the object once read, so repeated runs do not pile up in the repository (or in moto's memory). */
  deleteAfter: boolean;
}

export interface PipelineReadResult {
  plaintextBytes: number;
  seconds: number;
}

export async function runPipelineRead(params: PipelineReadParams): Promise<PipelineReadResult> {
  const storage = openBenchStorage(params.target);
  const keys = await openBenchKeys(params.keys);
  const session = createDecryptionSession(keys, {});
  try {
    let plaintextBytes = 0;
    const sink = new Writable({
      highWaterMark: 1024 * 1024,
      write(chunk: Buffer, _encoding, callback) {
        plaintextBytes += chunk.length;
        callback();
      },
    });
    const started = performance.now();
    // expected: both checksums and sizes are verified, as a restore does.
    await pipeline(readObject({ storage, key: params.stored.key, session, expected: params.stored }), sink);
    const seconds = (performance.now() - started) / 1000;
    if (params.deleteAfter) await storage.delete([params.stored.key]);
    return { plaintextBytes, seconds };
  } finally {
    session.close();
    keys.close();
  }
}
