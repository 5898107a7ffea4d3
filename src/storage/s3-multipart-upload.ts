// Streams one object to S3 as a multipart upload with a bounded number of parts in flight, made create-only
// by If-None-Match: * on CompleteMultipartUpload. Written on the bare client rather than lib-storage's Upload
// because Upload resolves an abort before its AbortMultipartUpload has run, keeps uploading the rest of the
// body after one part fails, and cannot pass an AbortSignal to the part requests in flight.
import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { LifeboatError } from '../errors/index.js';
import { wasWrittenByEarlierAttempt } from './s3-lost-response.js';
import type { BodyPart } from './split-into-parts.js';

/** S3's limit on parts per upload; with 5 MiB parts an object can reach 48.8 GiB (lifeboat objects are at most one base backup part). */
export const MAX_PARTS = 10_000;

/** How long the clean-up AbortMultipartUpload may take; it runs after the caller's own signal has fired. */
const ABORT_UPLOAD_TIMEOUT_MS = 60_000;
/** CompleteMultipartUpload can take minutes for large objects; S3 keeps the connection alive meanwhile. */
const COMPLETE_TIMEOUT_MS = 15 * 60_000;

/** What {@link uploadMultipart} uploads, where, and how. */
export interface MultipartUploadRequest {
  client: S3Client;
  bucket: string;
  /** The full object key, repository prefix included. */
  objectKey: string;
  /**
   * The body's parts in order; pulled only when a slot is free, which bounds memory to `queueSize` parts.
   * It must not keep a reference to a part it has handed out, or the bound grows by that part.
   */
  parts: AsyncIterator<BodyPart>;
  /** Parts uploading at once. */
  queueSize: number;
  /** Complete with If-None-Match: * so an existing object is never replaced. */
  createOnly: boolean;
  signal?: AbortSignal | undefined;
  /** Maps an SDK failure of `operation` (e.g. `upload part 3 of`) to the error to throw. */
  describeError(error: unknown, operation: string): unknown;
}

/** What a completed multipart upload stored. */
export interface MultipartUploadResult {
  sizeBytes: number;
}

/** MD5 of a part: sent as Content-MD5 so S3 rejects a part damaged on the way, and the basis of its ETag. */
export function md5(data: Uint8Array): Buffer {
  return createHash('md5').update(data).digest();
}

/** The ETag S3 gives a completed multipart upload: MD5 of the parts' MD5s, then `-<part count>`, quoted. */
function expectedEtag(partDigests: readonly Buffer[]): string {
  return `"${md5(Buffer.concat(partDigests)).toString('hex')}-${partDigests.length}"`;
}

/**
 * Uploads the parts as one multipart upload and completes it. On any failure (a part, the body stream, the
 * caller's signal, or a 412 from a create-only complete) it stops the parts in flight, waits for them,
 * aborts the upload, and only then rejects, so no visible object and no open upload are left behind.
 * An abort that arrives once CompleteMultipartUpload has been sent is too late: the put then succeeds.
 */
export async function uploadMultipart(request: MultipartUploadRequest): Promise<MultipartUploadResult> {
  const { client, bucket, objectKey, createOnly, signal } = request;
  // Not the caller's signal: a create cancelled in flight may still have created the upload on the server, and
  // without its id nobody could abort it. The caller's abort is honoured right after, through the clean-up path.
  const created = await client
    .send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: objectKey }), { abortSignal: AbortSignal.timeout(COMPLETE_TIMEOUT_MS) })
    .catch((error: unknown) => {
      throw request.describeError(error, 'start uploading');
    });
  const uploadId = created.UploadId;
  if (uploadId === undefined) {
    throw new LifeboatError('storageUnavailable', `the store returned no upload id for "${objectKey}"`, {
      hint: 'the S3-compatible store does not support multipart uploads as S3 does; raise partSizeBytes or use another store',
    });
  }

  // Fired on the first failure, so the other parts in flight stop instead of finishing for nothing.
  const stopParts = new AbortController();
  const partSignal = signal === undefined ? stopParts.signal : AbortSignal.any([signal, stopParts.signal]);
  const completed: CompletedPart[] = [];
  const partDigests: Buffer[] = [];
  const inFlight = new Set<Promise<void>>();
  // Only the first failure is reported; later ones are mostly the others being stopped because of it.
  const failures: unknown[] = [];
  let sizeBytes = 0;

  const startPart = (partNumber: number, data: Buffer, release: () => void): void => {
    const digest = md5(data);
    partDigests[partNumber - 1] = digest;
    const command = new UploadPartCommand({
      Bucket: bucket,
      Key: objectKey,
      UploadId: uploadId,
      PartNumber: partNumber,
      Body: data,
      ContentLength: data.length,
      ContentMD5: digest.toString('base64'),
    });
    const task = client
      .send(command, { abortSignal: partSignal })
      .then((result) => {
        if (result.ETag === undefined) throw new Error(`no ETag returned for part ${partNumber}`);
        completed.push({ PartNumber: partNumber, ETag: result.ETag });
      })
      .catch((error: unknown) => {
        failures.push(request.describeError(error, `upload part ${partNumber} of`));
        stopParts.abort();
      })
      .finally(() => {
        inFlight.delete(task);
        release();
      });
    inFlight.add(task);
  };

  try {
    signal?.throwIfAborted();
    // Held only until its upload starts: a stale reference here would keep one part more than the bound.
    let part: BodyPart | undefined;
    for (let partNumber = 1; ; partNumber++) {
      while (inFlight.size >= request.queueSize) await Promise.race(inFlight);
      if (failures.length > 0) throw failures[0];
      const next: IteratorResult<BodyPart> = await request.parts.next();
      if (next.done === true) break;
      part = next.value;
      if (partNumber > MAX_PARTS) {
        throw new LifeboatError('config', `object "${objectKey}" needs more than ${MAX_PARTS} parts`, {
          hint: 'raise repository.partSizeMiB so that the largest object fits in 10 000 parts',
        });
      }
      const isLast = part.isLast;
      sizeBytes += part.data.length;
      startPart(partNumber, part.data, part.release);
      part = undefined;
      if (isLast) break;
    }
    await Promise.all(inFlight);
    if (failures.length > 0) throw failures[0];
    signal?.throwIfAborted();
    completed.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    const complete = new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: objectKey,
      UploadId: uploadId,
      MultipartUpload: { Parts: completed },
      ...(createOnly ? { IfNoneMatch: '*' } : {}),
    });
    try {
      // Not the caller's signal: once Complete is sent, cancelling would leave us not knowing whether it landed.
      await client.send(complete, { abortSignal: AbortSignal.timeout(COMPLETE_TIMEOUT_MS) });
    } catch (error) {
      if (!(await wasWrittenByEarlierAttempt(client, bucket, objectKey, error, expectedEtag(partDigests)))) {
        throw request.describeError(error, 'complete the upload of');
      }
    }
  } catch (error) {
    stopParts.abort();
    await Promise.all(inFlight);
    await client
      .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: objectKey, UploadId: uploadId }), {
        abortSignal: AbortSignal.timeout(ABORT_UPLOAD_TIMEOUT_MS),
      })
      // The original failure matters more; an upload we could not abort is swept by cleanupIncompleteWrites.
      .catch(() => undefined);
    throw error;
  }
  return { sizeBytes };
}
