// The key rules shared by every driver, and the byte order all listings follow.
import { describe, expect, it } from 'vitest';
import { isLifeboatError } from '../../src/errors/index.js';
import { assertValidKey, assertValidPrefix, compareKeys } from '../../src/storage/index.js';

function rejects(check: () => void): boolean {
  try {
    check();
    return false;
  } catch (error) {
    return isLifeboatError(error, 'internal');
  }
}

describe('storage keys', () => {
  it.each(['a', 'a/b', 'clusters/main/wal/00000001/x-y', 'with space', '.hidden/x', 'a..b'])('accepts the key %j', (key) => {
    expect(rejects(() => assertValidKey(key))).toBe(false);
  });

  it.each(['', '/a', 'a/', 'a//b', '.', '..', 'a/../b', 'a/./b', 'a\\b', 'a\u0001b', 'x'.repeat(901)])('rejects the key %j', (key) => {
    expect(rejects(() => assertValidKey(key))).toBe(true);
  });

  it.each(['', 'a', 'a/', 'a/b', 'clusters/main/wal/0000'])('accepts the prefix %j', (prefix) => {
    expect(rejects(() => assertValidPrefix(prefix))).toBe(false);
  });

  it.each(['/', '/a', 'a//', '../', 'a/../', '..'])('rejects the prefix %j', (prefix) => {
    expect(rejects(() => assertValidPrefix(prefix))).toBe(true);
  });

  it('orders keys by UTF-8 bytes, as S3 lists them', () => {
    expect(['a/b', 'a-c', 'a', 'B', 'b'].sort(compareKeys)).toEqual(['B', 'a', 'a-c', 'a/b', 'b']);
    // UTF-16 order would put U+FF5E before U+1F600 (a surrogate pair); UTF-8 bytes put it after.
    expect(['\u{1F600}', '\uFF5E'].sort(compareKeys)).toEqual(['\uFF5E', '\u{1F600}']);
  });
});
