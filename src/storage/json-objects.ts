// Reading and writing repository metadata (manifests, cluster and repository info) as JSON, written once
// above the drivers so every driver behaves the same. What is read back is untrusted: it is size-capped,
// parsed and validated with zod, and errors name the key and the exact field that was wrong.
import type { Readable } from 'node:stream';
import type { z } from 'zod';
import { LifeboatError, describeError } from '../errors/index.js';
import type { ObjectInfo, PutResult, Storage } from './storage.js';

/** Largest metadata object {@link loadJson} reads, in bytes, by default: far above any real manifest. */
export const DEFAULT_MAX_JSON_BYTES = 64 * 1024 * 1024;

/**
 * Reads `stream` to the end into one Buffer. Rejects with LifeboatError `objectCorrupted` naming `what` once
 * more than `maxBytes` arrive (and destroys the stream), so a huge or hostile object cannot exhaust memory.
 */
export async function readAll(stream: Readable, maxBytes: number, what = 'object'): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let sizeBytes = 0;
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    sizeBytes += data.length;
    if (sizeBytes > maxBytes) {
      stream.destroy();
      throw new LifeboatError('objectCorrupted', `${what} is larger than the ${maxBytes}-byte limit`, {
        hint: 'metadata objects are small; this one was replaced or damaged, so restore it from a copy or remove it',
      });
    }
    chunks.push(data);
  }
  return Buffer.concat(chunks, sizeBytes);
}

/** Formats a zod issue path as `files[3].sizeBytes` (or `(root)`). */
function formatIssuePath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const part of path) {
    if (typeof part === 'number') text += `[${part}]`;
    else text += text === '' ? String(part) : `.${String(part)}`;
  }
  return text === '' ? '(root)' : text;
}

/**
 * Parses `bytes` as UTF-8 JSON and validates it with `schema`. Throws `objectCorrupted` when it is not JSON or
 * does not match; the message names `what` (e.g. `object "<key>" in <location>`) and the first failing field.
 */
export function parseJsonBytes<Schema extends z.ZodType>(bytes: Buffer, schema: Schema, what: string): z.output<Schema> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new LifeboatError('objectCorrupted', `${what} is not valid JSON: ${describeError(error)}`, {
      hint: 'the object was damaged or replaced; restore it from a copy (or a replica repository)',
      cause: error,
    });
  }
  const result = schema.safeParse(parsed);
  if (!result.success) {
    throw new LifeboatError('objectCorrupted', `${what} has an unexpected format ${describeSchemaIssues(result.error)}`, {
      hint: 'it was written by an incompatible lifeboat version or damaged; upgrade lifeboat or restore the object',
      cause: result.error,
    });
  }
  return result.data;
}

/** `at files[3].sizeBytes: <zod's message> (and 2 more issues)`: where a value failed its schema, for messages. */
export function describeSchemaIssues(error: z.ZodError): string {
  const [first] = error.issues;
  const detail = first === undefined ? error.message : `at ${formatIssuePath(first.path)}: ${first.message}`;
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more issues)` : '';
  return `${detail}${more}`;
}

/**
 * Reads the JSON object at `key` and validates it with `schema`. Throws `objectNotFound` when it is missing
 * and `objectCorrupted` when it is too large (`maxBytes`, default 64 MiB), not JSON, or does not match the
 * schema; the message names the key and the first failing field.
 */
export async function loadJson<Schema extends z.ZodType>(
  storage: Storage,
  key: string,
  schema: Schema,
  options: { signal?: AbortSignal; maxBytes?: number } = {},
): Promise<z.output<Schema>> {
  const stream = await storage.get(key, options.signal === undefined ? {} : { signal: options.signal });
  const what = `object "${key}" in ${storage.location}`;
  const bytes = await readAll(stream, options.maxBytes ?? DEFAULT_MAX_JSON_BYTES, what);
  return parseJsonBytes(bytes, schema, what);
}

/**
 * Writes `value` as pretty-printed JSON (2-space indent, trailing newline) at `key`. With `createOnly` it fails
 * with `objectExists` instead of replacing an existing object. Default: overwrite.
 */
export async function storeJson(
  storage: Storage,
  key: string,
  value: unknown,
  options: { createOnly?: boolean; signal?: AbortSignal } = {},
): Promise<PutResult> {
  const body = Buffer.from(`${JSON.stringify(value, null, 2)}\n`);
  return storage.put(key, body, options);
}

/** True when an object exists at `key`. */
export async function exists(storage: Storage, key: string, options: { signal?: AbortSignal } = {}): Promise<boolean> {
  return (await storage.head(key, options)) !== undefined;
}

/**
 * Collects a listing into an array, in key order. Throws LifeboatError `internal` when more than `limit`
 * objects (default 100 000) are found, so an unexpectedly huge prefix fails loudly instead of filling memory.
 */
export async function collectList(
  storage: Storage,
  prefix: string,
  options: { signal?: AbortSignal; limit?: number } = {},
): Promise<ObjectInfo[]> {
  const limit = options.limit ?? 100_000;
  const objects: ObjectInfo[] = [];
  for await (const object of storage.list(prefix, options.signal === undefined ? {} : { signal: options.signal })) {
    if (objects.length >= limit) {
      throw new LifeboatError('internal', `more than ${limit} objects under "${prefix}" in ${storage.location}`, {
        hint: 'iterate storage.list() lazily for prefixes this large',
      });
    }
    objects.push(object);
  }
  return objects;
}
