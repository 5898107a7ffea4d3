// The key rules shared by every driver, and the byte order all listings follow.
import { describe, expect, it } from 'vitest';
import { isLifeboatError, type LifeboatError } from '../../src/errors/index.js';
import { assertValidKey, assertValidPrefix, compareKeys } from '../../src/storage/index.js';

/** The error `check` throws, or undefined when it accepts. Any other error than a LifeboatError fails the test. */
function errorOf(check: () => void): LifeboatError | undefined {
  try {
    check();
    return undefined;
  } catch (error) {
    if (isLifeboatError(error)) return error;
    throw error;
  }
}

/** Asserts `check` throws exactly the `internal` error a bad key is (keys are built by Lifeboat, never typed). */
function expectRejected(check: () => void, what: 'key' | 'prefix'): void {
  const error = errorOf(check);
  expect(error?.code).toBe('internal');
  expect(error?.message).toMatch(new RegExp(`^invalid storage ${what} `));
}

describe('storage keys', () => {
  it.each(['a', 'a/b', 'clusters/main/wal/00000001/x-y', 'with space', '.hidden/x', 'a..b'])('accepts the key %j', (key) => {
    expect(errorOf(() => assertValidKey(key))).toBeUndefined();
  });

  it.each(['', '/a', 'a/', 'a//b', '.', '..', 'a/../b', 'a/./b', 'a\\b', 'a\u0001b', 'x'.repeat(901)])('rejects the key %j', (key) => {
    expectRejected(() => assertValidKey(key), 'key');
  });

  it.each(['', 'a', 'a/', 'a/b', 'clusters/main/wal/0000'])('accepts the prefix %j', (prefix) => {
    expect(errorOf(() => assertValidPrefix(prefix))).toBeUndefined();
  });

  it.each(['/', '/a', 'a//', '../', 'a/../', '..'])('rejects the prefix %j', (prefix) => {
    expectRejected(() => assertValidPrefix(prefix), 'prefix');
  });

  it('orders keys by UTF-8 bytes, as S3 lists them', () => {
    expect(['a/b', 'a-c', 'a', 'B', 'b'].sort(compareKeys)).toEqual(['B', 'a', 'a-c', 'a/b', 'b']);
    // UTF-16 order would put U+FF5E before U+1F600 (a surrogate pair); UTF-8 bytes put it after.
    expect(['\u{1F600}', '\uFF5E'].sort(compareKeys)).toEqual(['\uFF5E', '\u{1F600}']);
  });
});
