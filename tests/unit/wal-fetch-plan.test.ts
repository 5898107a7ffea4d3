// planWalSource decides what `wal fetch` serves from a listing alone: a complete segment beats any partial, the
// newest partial beats older ones, history files are found by exact key, and a bad %f is a usage error.
import { describe, expect, it } from 'vitest';
import { isLifeboatError } from '../../src/errors/index.js';
import { parseWalFetchName, planWalSource, walSourcePrefix } from '../../src/restore/wal-fetch/plan-wal-source.js';
import { walHistoryKey, walPartialKey, walSegmentKey, type ObjectInfo } from '../../src/storage/index.js';

const SEG = '000000010000000000000005';
const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);

function listed(...keys: string[]): ObjectInfo[] {
  return keys.map((key, index) => ({ key, sizeBytes: 1000 + index, lastModified: new Date(0) }));
}

describe('parseWalFetchName', () => {
  it('accepts segment and history names with their timeline', () => {
    expect(parseWalFetchName(SEG)).toEqual({ kind: 'segment', name: SEG, timeline: 1 });
    expect(parseWalFetchName('0000000A.history')).toEqual({ kind: 'history', name: '0000000A.history', timeline: 10 });
  });

  it.each(['pg_wal/RECOVERYXLOG', '000000010000000000000005.partial', '00000000000000000000000F', '000000010000000000000005\n', '00000001.backup', ''])(
    'refuses %j as a usage error (never "not found")',
    (name) => {
      const error = (() => {
        try {
          return parseWalFetchName(name);
        } catch (caught) {
          return caught;
        }
      })();
      expect(isLifeboatError(error, 'usage')).toBe(true);
    },
  );
});

describe('walSourcePrefix', () => {
  it('lists a segment with its partials, and a history file by its exact key', () => {
    expect(walSourcePrefix('main', parseWalFetchName(SEG))).toBe(`clusters/main/wal/00000001/${SEG}`);
    expect(walSourcePrefix('main', parseWalFetchName('00000002.history'))).toBe(walHistoryKey('main', 2));
  });
});

describe('planWalSource', () => {
  const request = parseWalFetchName(SEG);

  it('prefers the complete segment over partials, verifying the checksum from its key', () => {
    const source = planWalSource(request, listed(walSegmentKey('main', SEG, SHA_A), walPartialKey('main', SEG, '0000000005FFFFFF')));
    expect(source).toEqual({ key: walSegmentKey('main', SEG, SHA_A), kind: 'segment', expected: { plaintextSha256: SHA_A, storedSizeBytes: 1000 } });
  });

  it('chooses the partial with the highest end LSN when no complete segment exists', () => {
    const keys = ['0000000005200000', '0000000005A00000', '0000000005100000'].map((end) => walPartialKey('main', SEG, end));
    expect(planWalSource(request, listed(...keys))).toMatchObject({ key: keys[1], kind: 'partial' });
  });

  it('ignores other segments whose names share the prefix, other timelines and foreign keys', () => {
    const longer = `${SEG.slice(0, -1)}50`; // not a valid 24-digit name, but a prefix match
    const source = planWalSource(request, listed(`clusters/main/wal/00000001/${longer}-${SHA_A}`, 'clusters/main/wal/00000001/notes.txt'));
    expect(source).toBeUndefined();
    expect(planWalSource(parseWalFetchName('000000020000000000000005'), listed(walSegmentKey('main', SEG, SHA_A)))).toBeUndefined();
  });

  it('returns undefined for an empty listing: the only case the caller may answer "not found"', () => {
    expect(planWalSource(request, [])).toBeUndefined();
    expect(planWalSource(parseWalFetchName('00000003.history'), [])).toBeUndefined();
  });

  it('finds a history file', () => {
    expect(planWalSource(parseWalFetchName('00000003.history'), listed(walHistoryKey('main', 3)))).toMatchObject({ key: walHistoryKey('main', 3), kind: 'history' });
  });

  it('refuses two complete segments with different checksums, but accepts a duplicate listing of one', () => {
    expect(() => planWalSource(request, listed(walSegmentKey('main', SEG, SHA_A), walSegmentKey('main', SEG, SHA_B)))).toThrow(/stored twice with different contents/);
    expect(planWalSource(request, listed(walSegmentKey('main', SEG, SHA_A), walSegmentKey('main', SEG, SHA_A)))?.kind).toBe('segment');
  });
});
