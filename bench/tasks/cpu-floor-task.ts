// The CPU floor of writeObject on one file: what its unavoidable parts cost on one thread each, measured in the
// same process with the same libraries: zstd (zstd-napi, the pool's binding, in the pipeline's frame size),
// SHA-256 of the content (node:crypto, as the pipeline's), and for the stored bytes AES-256-GCM in the envelope's
// 1 MiB frames (node:crypto, as the Encryption SDK's) and their SHA-256. Reading the file is not counted.
// Everything else the pipeline does (copies, messaging, GC, I/O) is overhead on top of this.
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';

interface ZstdBinding {
  CCtx: new () => { setParameter(parameter: number, value: number): void; compress2(out: Uint8Array, input: Uint8Array): number };
  CParameter: { compressionLevel: number };
  compressBound(size: number): number;
}

export interface CpuFloorParams {
  file: string;
  level: number;
  frameBytes: number;
}

export interface CpuFloorResult {
  zstdCpuSeconds: number;
  sha256CpuSeconds: number;
  /** AES-256-GCM of the compressed bytes, in 1 MiB frames. */
  encryptCpuSeconds: number;
  /** SHA-256 of the encrypted bytes. */
  storedSha256CpuSeconds: number;
  storedBytes: number;
}

/** The envelope's frame size (FRAME_LENGTH_BYTES in src/crypto): one cipher, IV and tag per frame. */
const FRAME_BYTES = 1024 * 1024;

function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

export function runCpuFloor(params: CpuFloorParams): Promise<CpuFloorResult> {
  const zstd = createRequire(import.meta.url)('zstd-napi/binding') as ZstdBinding;
  const cctx = new zstd.CCtx();
  cctx.setParameter(zstd.CParameter.compressionLevel, params.level);
  const block = Buffer.allocUnsafe(params.frameBytes);
  const out = Buffer.allocUnsafe(zstd.compressBound(params.frameBytes));
  const hash = createHash('sha256');
  const storedHash = createHash('sha256');
  const key = randomBytes(32);
  let zstdCpuSeconds = 0;
  let sha256CpuSeconds = 0;
  let encryptCpuSeconds = 0;
  let storedSha256CpuSeconds = 0;
  let storedBytes = 0;
  const fd = openSync(params.file, 'r');
  try {
    for (;;) {
      const length = readSync(fd, block, 0, block.length, null);
      if (length === 0) break;
      const input = block.subarray(0, length);
      let start = process.cpuUsage();
      const compressed = out.subarray(0, cctx.compress2(out, input));
      zstdCpuSeconds += cpuSecondsSince(start);
      start = process.cpuUsage();
      hash.update(input);
      sha256CpuSeconds += cpuSecondsSince(start);
      // Frames here follow the compressed blocks rather than running across them: the same bytes, a few more tags.
      for (let offset = 0; offset < compressed.length; offset += FRAME_BYTES) {
        start = process.cpuUsage();
        const cipher = createCipheriv('aes-256-gcm', key, randomBytes(12));
        const sealed = [cipher.update(compressed.subarray(offset, offset + FRAME_BYTES)), cipher.final(), cipher.getAuthTag()];
        encryptCpuSeconds += cpuSecondsSince(start);
        start = process.cpuUsage();
        for (const piece of sealed) {
          storedHash.update(piece);
          storedBytes += piece.length;
        }
        storedSha256CpuSeconds += cpuSecondsSince(start);
      }
    }
  } finally {
    closeSync(fd);
  }
  hash.digest();
  storedHash.digest();
  return Promise.resolve({ zstdCpuSeconds, sha256CpuSeconds, encryptCpuSeconds, storedSha256CpuSeconds, storedBytes });
}
