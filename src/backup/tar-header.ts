// Reads the few fields of a tar header block that splitting and inspection need: name, size, type. Handles
// ustar (prefix + name), octal and base-256 sizes, and recognises the headers that describe the next member.
import { LifeboatError } from '../errors/index.js';

export const TAR_BLOCK_BYTES = 512;

export interface TarHeader {
  name: string;
  sizeBytes: number;
  /** Type flag: '0' file, '5' directory, '2' symlink, 'x'/'g' pax, 'L'/'K' GNU long name/link. */
  type: string;
}

/** True for a block of 512 zero bytes (the end-of-archive marker is two of them). */
export function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < TAR_BLOCK_BYTES; i++) if (block[i] !== 0) return false;
  return true;
}

function readString(block: Buffer, offset: number, length: number): string {
  const end = block.indexOf(0, offset);
  return block.toString('utf8', offset, end === -1 || end > offset + length ? offset + length : end);
}

function readSize(block: Buffer): number {
  // Base-256 (GNU) encoding: high bit of the first byte set; used for members of 8 GiB or more.
  if ((block[124]! & 0x80) !== 0) {
    let value = 0n;
    for (let i = 125; i < 136; i++) value = (value << 8n) | BigInt(block[i]!);
    return Number(value);
  }
  const text = readString(block, 124, 12).trim();
  return text === '' ? 0 : Number.parseInt(text, 8);
}

/** Verify the header checksum: a corrupt stream must fail loudly, not be split at a wrong place. */
function checksumMatches(block: Buffer): boolean {
  const stored = Number.parseInt(readString(block, 148, 8).trim(), 8);
  let sum = 0;
  for (let i = 0; i < TAR_BLOCK_BYTES; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum === stored;
}

export function parseTarHeader(block: Buffer): TarHeader {
  if (!checksumMatches(block)) {
    throw new LifeboatError('objectCorrupted', 'tar stream has a header with a bad checksum', {
      hint: 'the backup stream is not a valid tar archive; check the pg_basebackup output',
    });
  }
  const name = readString(block, 0, 100);
  const magic = block.toString('latin1', 257, 262);
  const prefix = magic === 'ustar' ? readString(block, 345, 155) : '';
  return {
    name: prefix ? `${prefix}/${name}` : name,
    sizeBytes: readSize(block),
    type: String.fromCharCode(block[156] || 0x30),
  };
}

/** Headers that describe the member after them; a part must never be cut between them and it. */
export function isMetaHeader(header: TarHeader): boolean {
  return header.type === 'x' || header.type === 'g' || header.type === 'L' || header.type === 'K';
}

/** Data bytes plus padding up to the next block boundary. */
export function paddedSize(sizeBytes: number): number {
  return Math.ceil(sizeBytes / TAR_BLOCK_BYTES) * TAR_BLOCK_BYTES;
}
