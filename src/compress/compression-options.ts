// Which compression algorithms Lifeboat writes and reads, their level ranges and defaults. A stored object records
// its algorithm in its authenticated header (see src/pipeline), so reading never depends on today's configuration.
import { LifeboatError } from '../errors/index.js';

/** A compression algorithm. `none` stores the bytes as they are (for data that is already compressed). */
export type CompressionAlgorithm = 'zstd' | 'gzip' | 'none';

/** Every algorithm, in order of preference. */
export const COMPRESSION_ALGORITHMS: readonly CompressionAlgorithm[] = ['zstd', 'gzip', 'none'];

/** How to compress one object. */
export interface CompressionOptions {
  algorithm: CompressionAlgorithm;
  /**
   * Compression level: zstd 1-22 (default 3), gzip 1-9 (default 6); `none` ignores it and records 0.
   * Higher levels compress better and cost more CPU.
   */
  level?: number;
}

/** The level used when none is given, per algorithm. */
export const DEFAULT_COMPRESSION_LEVELS: Readonly<Record<CompressionAlgorithm, number>> = { zstd: 3, gzip: 6, none: 0 };

const LEVEL_RANGES: Readonly<Record<CompressionAlgorithm, readonly [number, number]>> = {
  zstd: [1, 22],
  gzip: [1, 9],
  none: [0, 0],
};

/** True when `value` names a supported algorithm (for parsing headers and configuration). */
export function isCompressionAlgorithm(value: unknown): value is CompressionAlgorithm {
  return typeof value === 'string' && (COMPRESSION_ALGORITHMS as readonly string[]).includes(value);
}

/**
 * The effective level for `options`: the default when unset, 0 for `none`. Throws LifeboatError `config` when the
 * level is not an integer in the algorithm's range.
 */
export function resolveCompressionLevel(options: CompressionOptions): number {
  const { algorithm } = options;
  if (algorithm === 'none') return 0;
  const level = options.level ?? DEFAULT_COMPRESSION_LEVELS[algorithm];
  const [min, max] = LEVEL_RANGES[algorithm];
  if (!Number.isInteger(level) || level < min || level > max) {
    throw new LifeboatError('config', `${algorithm} compression level ${level} is out of range`, {
      hint: `use an integer from ${min} to ${max} (default ${DEFAULT_COMPRESSION_LEVELS[algorithm]})`,
    });
  }
  return level;
}
