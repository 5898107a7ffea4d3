// The CPU floor of writeObject on one file: what its two unavoidable parts cost on one thread each, measured in
// the same process with the same libraries: zstd (zstd-napi, the pool's binding, in the pipeline's frame size)
// and SHA-256 (node:crypto, as the pipeline's). Reading the file is not counted. Everything else the pipeline
// does (encryption, copies, messaging, GC, I/O) is overhead on top of this.
import { createHash } from 'node:crypto';
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
  storedBytes: number;
}

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
  let zstdCpuSeconds = 0;
  let sha256CpuSeconds = 0;
  let storedBytes = 0;
  const fd = openSync(params.file, 'r');
  try {
    for (;;) {
      const length = readSync(fd, block, 0, block.length, null);
      if (length === 0) break;
      const input = block.subarray(0, length);
      let start = process.cpuUsage();
      storedBytes += cctx.compress2(out, input);
      zstdCpuSeconds += cpuSecondsSince(start);
      start = process.cpuUsage();
      hash.update(input);
      sha256CpuSeconds += cpuSecondsSince(start);
    }
  } finally {
    closeSync(fd);
  }
  hash.digest();
  return Promise.resolve({ zstdCpuSeconds, sha256CpuSeconds, storedBytes });
}
