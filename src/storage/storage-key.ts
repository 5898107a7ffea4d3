// Object key rules shared by every storage driver, checked in one place so that a key valid on S3 is valid
// on a folder too: keys are relative, slash-separated paths with no empty, `.` or `..` segments. Drivers
// call these before touching the store, so a bad key never escapes the repository root or prefix.
import { LifeboatError } from '../errors/index.js';

/** Longest key accepted, in UTF-8 bytes; S3's limit is 1024 and the driver's prefix needs room. */
export const MAX_KEY_BYTES = 900;

// Control characters and backslash: legal on S3, but they make paths ambiguous on a folder and in logs.
// eslint-disable-next-line no-control-regex
const FORBIDDEN_CHARACTERS = /[\u0000-\u001f\u007f\\]/;

function invalid(what: 'key' | 'prefix', value: string, reason: string): LifeboatError {
  return new LifeboatError('internal', `invalid storage ${what} "${value}": ${reason}`, {
    hint: 'object keys are built by src/storage/repository-layout.ts; this is a bug in lifeboat, please report it',
  });
}

function checkSegments(what: 'key' | 'prefix', value: string, segments: readonly string[]): void {
  if (value.startsWith('/')) throw invalid(what, value, 'it must be relative (no leading "/")');
  if (FORBIDDEN_CHARACTERS.test(value)) throw invalid(what, value, 'it contains a control character or "\\"');
  if (Buffer.byteLength(value) > MAX_KEY_BYTES) throw invalid(what, value, `it is longer than ${MAX_KEY_BYTES} bytes`);
  for (const segment of segments) {
    if (segment === '') throw invalid(what, value, 'it has an empty path segment');
    if (segment === '.' || segment === '..') throw invalid(what, value, `it has a "${segment}" path segment`);
  }
}

/**
 * Throws LifeboatError `internal` unless `key` names an object: non-empty, relative, `/`-separated, no empty,
 * `.` or `..` segment (so no trailing `/`), no control characters or backslash, at most {@link MAX_KEY_BYTES}.
 */
export function assertValidKey(key: string): void {
  if (key === '') throw invalid('key', key, 'it is empty');
  checkSegments('key', key, key.split('/'));
}

/**
 * Throws LifeboatError `internal` unless `prefix` is a valid list prefix: empty, or a key, or a key followed by
 * `/`. A prefix may end in the middle of a segment (`wal/000000010000`), matching S3 prefix semantics.
 */
export function assertValidPrefix(prefix: string): void {
  if (prefix === '') return;
  const body = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  checkSegments('prefix', prefix, body.split('/'));
}

/** Compares keys by their UTF-8 bytes, the order S3 lists in, so every driver lists in the same order. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
