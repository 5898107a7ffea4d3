// The s3 storage driver: a repository is a key prefix in an S3 bucket (AWS or any S3-compatible store).
// Bodies up to one part go up in a single PutObject; larger ones through s3-multipart-upload. Create-only
// writes use If-None-Match: *, which S3 evaluates atomically, so two racing writers can never both win.
import { DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { addAbortSignal, Readable } from 'node:stream';
import { LifeboatError } from '../errors/index.js';
import { createS3Client } from './create-s3-client.js';
import { forEachBounded } from './for-each-bounded.js';
import { abortStaleUploads } from './s3-abort-stale-uploads.js';
import { s3Error, s3ErrorName, s3HttpStatus } from './s3-errors.js';
import { wasWrittenByEarlierAttempt } from './s3-lost-response.js';
import { md5, uploadMultipart } from './s3-multipart-upload.js';
import { splitIntoParts, type BodyPart } from './split-into-parts.js';
import type { GetOptions, ObjectInfo, PutOptions, PutResult, Storage } from './storage.js';
import { objectNotFoundError, rangeBeyondEndError } from './storage-errors.js';
import { assertValidKey, assertValidPrefix } from './storage-key.js';
import { resolveS3StorageOptions, type S3StorageOptions } from './s3-storage-options.js';

/** DeleteObjects takes at most 1000 keys per request. */
const DELETE_BATCH_SIZE = 1000;
/** Delete batches sent at once. */
const REQUEST_CONCURRENCY = 4;

/** The first part of a body; an empty body is one empty, last part. */
async function readFirstPart(parts: AsyncIterator<BodyPart>): Promise<BodyPart> {
  const first = await parts.next();
  return first.done === true ? { data: Buffer.alloc(0), isLast: true, release: () => undefined } : first.value;
}

/** `first`, then the rest of `parts`; lets go of `first` as soon as it is taken. */
function prependPart(first: BodyPart, parts: AsyncIterator<BodyPart>): AsyncIterator<BodyPart> {
  let held: BodyPart | undefined = first;
  return {
    next: async () => {
      if (held === undefined) return parts.next();
      const value = held;
      held = undefined;
      return { done: false, value };
    },
  };
}

/** Creates the s3 driver (loads the AWS SDK); use createS3Storage, which loads this module on first use. */
export function createS3Driver(options: S3StorageOptions): Storage {
  const { bucket } = options;
  const { prefix, partSizeBytes, queueSize, listPageSize, location } = resolveS3StorageOptions(options);
  const endpoint = options.endpoint ?? `https://s3.${options.region}.amazonaws.com`;
  const client = createS3Client(options);
  const objectKeyOf = (key: string): string => prefix + key;

  const describe = (error: unknown, operation: string, key: string, signal?: AbortSignal): unknown =>
    s3Error(error, { operation, key, location, endpoint, signal });

  /** One PutObject of a body that fits a part; the Buffer lets the SDK retry it and Content-MD5 guard it. */
  async function putSingle(key: string, data: Buffer, createOnly: boolean, signal: AbortSignal | undefined): Promise<void> {
    const digest = md5(data);
    const command = new PutObjectCommand({
      Bucket: bucket,
      Key: objectKeyOf(key),
      Body: data,
      ContentLength: data.length,
      ContentMD5: digest.toString('base64'),
      ...(createOnly ? { IfNoneMatch: '*' } : {}),
    });
    try {
      await client.send(command, { abortSignal: signal });
    } catch (error) {
      const etag = `"${digest.toString('hex')}"`;
      if (!(await wasWrittenByEarlierAttempt(client, bucket, objectKeyOf(key), error, etag))) {
        throw describe(error, 'put', key, signal);
      }
    }
  }

  async function put(key: string, body: Readable | Uint8Array, putOptions: PutOptions = {}): Promise<PutResult> {
    try {
      return await writeObject(key, body, putOptions);
    } catch (error) {
      // Tell the body's producer to stop, whatever failed; a no-op when the body is already destroyed.
      if (body instanceof Readable) body.destroy();
      throw error;
    }
  }

  async function writeObject(key: string, body: Readable | Uint8Array, putOptions: PutOptions): Promise<PutResult> {
    assertValidKey(key);
    const { signal, createOnly = false } = putOptions;
    // Destroying the body on abort wakes a read that is waiting for data the producer may never send.
    if (signal !== undefined && body instanceof Readable) addAbortSignal(signal, body);
    const parts = splitIntoParts(body, partSizeBytes);
    try {
      let firstPart: BodyPart | undefined = await readFirstPart(parts);
      if (firstPart.isLast) {
        signal?.throwIfAborted();
        try {
          await putSingle(key, firstPart.data, createOnly, signal);
        } finally {
          firstPart.release();
        }
        return { key, sizeBytes: firstPart.data.length };
      }
      const allParts = prependPart(firstPart, parts);
      firstPart = undefined; // this frame lives as long as the upload; it must not pin part 1 meanwhile
      const { sizeBytes } = await uploadMultipart({
        client,
        bucket,
        objectKey: objectKeyOf(key),
        parts: allParts,
        queueSize,
        createOnly,
        signal,
        describeError: (error, operation) => describe(error, operation, key, signal),
      });
      return { key, sizeBytes };
    } catch (error) {
      // The body's own errors stay as they are (the caller's problem); aborts become `aborted`.
      if (signal?.aborted === true && !(error instanceof LifeboatError)) throw describe(error, 'put', key, signal);
      throw error;
    } finally {
      await parts.return(undefined);
    }
  }

  async function get(key: string, getOptions: GetOptions = {}): Promise<Readable> {
    assertValidKey(key);
    const { range, signal } = getOptions;
    if (range !== undefined && (!Number.isSafeInteger(range.start) || range.start < 0 || range.end < range.start)) {
      throw new LifeboatError('internal', `invalid byte range ${range.start}-${range.end}`, {
        hint: 'this is a bug in lifeboat; please report it',
      });
    }
    const command = new GetObjectCommand({
      Bucket: bucket,
      Key: objectKeyOf(key),
      ...(range === undefined ? {} : { Range: `bytes=${range.start}-${range.end}` }),
    });
    let body: unknown;
    try {
      body = (await client.send(command, { abortSignal: signal })).Body;
    } catch (error) {
      if (range !== undefined && (s3ErrorName(error) === 'InvalidRange' || s3HttpStatus(error) === 416)) {
        throw rangeBeyondEndError(key, location, range.start, error);
      }
      // Some S3-compatible stores answer a missing key with a bare 404 instead of NoSuchKey.
      if (s3HttpStatus(error) === 404 && s3ErrorName(error) !== 'NoSuchBucket' && signal?.aborted !== true) {
        throw objectNotFoundError(key, location, error);
      }
      throw describe(error, 'get', key, signal);
    }
    if (!(body instanceof Readable)) {
      throw new LifeboatError('internal', `get of "${key}" returned no Node.js stream`, {
        hint: 'the S3 client is not using its Node.js HTTP handler; this is a bug in lifeboat, please report it',
      });
    }
    return signal === undefined ? body : addAbortSignal(signal, body);
  }

  async function head(key: string, headOptions: { signal?: AbortSignal } = {}): Promise<ObjectInfo | undefined> {
    assertValidKey(key);
    const { signal } = headOptions;
    try {
      const result = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: objectKeyOf(key) }), { abortSignal: signal });
      return { key, sizeBytes: result.ContentLength ?? 0, lastModified: result.LastModified ?? new Date(0) };
    } catch (error) {
      // HEAD has no body, so a missing key is only a bare 404 ("NotFound").
      if (s3HttpStatus(error) === 404 && signal?.aborted !== true) return undefined;
      throw describe(error, 'head', key, signal);
    }
  }

  async function* list(listPrefix: string, listOptions: { signal?: AbortSignal } = {}): AsyncGenerator<ObjectInfo> {
    assertValidPrefix(listPrefix);
    const { signal } = listOptions;
    let continuationToken: string | undefined;
    do {
      const command = new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: objectKeyOf(listPrefix),
        MaxKeys: listPageSize,
        ...(continuationToken === undefined ? {} : { ContinuationToken: continuationToken }),
      });
      let page;
      try {
        page = await client.send(command, { abortSignal: signal });
      } catch (error) {
        throw describe(error, 'list', listPrefix, signal);
      }
      for (const item of page.Contents ?? []) {
        // Keys ending in "/" are folder markers made by consoles and tools, never objects lifeboat wrote.
        if (item.Key === undefined || item.Key.endsWith('/')) continue;
        yield { key: item.Key.slice(prefix.length), sizeBytes: item.Size ?? 0, lastModified: item.LastModified ?? new Date(0) };
      }
      continuationToken = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (continuationToken !== undefined);
  }

  async function deleteBatch(keys: readonly string[], signal: AbortSignal | undefined): Promise<void> {
    const command = new DeleteObjectsCommand({
      Bucket: bucket,
      Delete: { Objects: keys.map((key) => ({ Key: objectKeyOf(key) })), Quiet: true },
    });
    let result;
    try {
      result = await client.send(command, { abortSignal: signal });
    } catch (error) {
      throw describe(error, 'delete', keys[0] ?? '', signal);
    }
    // DeleteObjects answers 200 even when some keys failed; each failure is listed. Missing keys are not failures.
    const failed = result.Errors ?? [];
    const first = failed[0];
    if (first !== undefined) {
      const key = (first.Key ?? '').slice(prefix.length);
      throw new LifeboatError('storageUnavailable', `cannot delete "${key}" (and ${failed.length - 1} more) in ${location}: ${first.Code ?? 'error'}: ${first.Message ?? ''}`, {
        hint: 'check that the credentials allow s3:DeleteObject and that no object lock or legal hold protects these keys',
      });
    }
  }

  async function deleteKeys(keys: readonly string[], deleteOptions: { signal?: AbortSignal } = {}): Promise<void> {
    keys.forEach(assertValidKey);
    const batches: string[][] = [];
    for (let start = 0; start < keys.length; start += DELETE_BATCH_SIZE) batches.push(keys.slice(start, start + DELETE_BATCH_SIZE));
    const { signal } = deleteOptions;
    try {
      await forEachBounded(batches, REQUEST_CONCURRENCY, (batch) => deleteBatch(batch, signal), signal);
    } catch (error) {
      throw describe(error, 'delete', `${keys.length} keys`, signal);
    }
  }

  async function cleanupIncompleteWrites(olderThanMs: number, cleanupOptions: { signal?: AbortSignal } = {}): Promise<number> {
    const { signal } = cleanupOptions;
    return abortStaleUploads({
      client,
      bucket,
      prefix,
      olderThanMs,
      pageSize: listPageSize,
      signal,
      describeError: (error, operation, key) => describe(error, operation, key, signal),
    });
  }

  return { driver: 's3', location, put, get, head, list, delete: deleteKeys, cleanupIncompleteWrites };
}
