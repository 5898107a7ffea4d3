// The free list of shared blocks: blocks of the streams' own sizes are reused, and an outsized one-off block (a
// decoder batch sized for one huge write) is let go instead of staying resident.
import { describe, expect, it } from 'vitest';
import { returnSharedBlock, takeSharedBlock } from '../../src/compress/shared-blocks.js';

const MIB = 1024 * 1024;

describe('shared blocks', () => {
  it('reuses a returned block of the same size', () => {
    const block = takeSharedBlock(2 * MIB + 17);
    returnSharedBlock(block);
    expect(takeSharedBlock(2 * MIB + 17)).toBe(block);
  });

  it('does not keep blocks larger than 8 MiB', () => {
    const block = takeSharedBlock(9 * MIB);
    returnSharedBlock(block);
    expect(takeSharedBlock(9 * MIB)).not.toBe(block);
  });
});
