// Little-endian integer reads from byte arrays at any offset. WAL is written in the server's byte order; all
// platforms PostgreSQL ships WAL from in practice are little-endian, and the page magic would not match otherwise.

/** Unsigned 16-bit value at `offset`. */
export function readUint16LE(bytes: Uint8Array, offset: number): number {
  return bytes[offset]! | (bytes[offset + 1]! << 8);
}

/** Signed 32-bit value at `offset` (cheaper in the JIT than unsigned; use `>>> 0` where the sign matters). */
export function readInt32LE(bytes: Uint8Array, offset: number): number {
  return bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24);
}

/** Unsigned 32-bit value at `offset`. */
export function readUint32LE(bytes: Uint8Array, offset: number): number {
  return readInt32LE(bytes, offset) >>> 0;
}

/** Unsigned 64-bit value at `offset`. */
export function readUint64LE(bytes: Uint8Array, offset: number): bigint {
  return (BigInt(readUint32LE(bytes, offset + 4)) << 32n) | BigInt(readUint32LE(bytes, offset));
}
