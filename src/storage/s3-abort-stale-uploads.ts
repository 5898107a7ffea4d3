// Sweeps multipart uploads that were started under the repository prefix and never completed or aborted
// (a writer killed mid-put). They are invisible to readers but S3 bills their parts until they are aborted.
import { AbortMultipartUploadCommand, ListMultipartUploadsCommand, type MultipartUpload, type S3Client } from '@aws-sdk/client-s3';
import { forEachBounded } from './for-each-bounded.js';
import { s3ErrorName } from './s3-errors.js';

/** Aborts sent at once. */
const ABORT_CONCURRENCY = 4;

/** Which uploads {@link abortStaleUploads} sweeps, and with what client. */
export interface AbortStaleUploadsRequest {
  client: S3Client;
  bucket: string;
  /** The repository prefix; only uploads under it are touched. */
  prefix: string;
  /** Uploads initiated at least this long ago are aborted, in ms. */
  olderThanMs: number;
  /** Uploads fetched per list request (1-1000). */
  pageSize: number;
  signal?: AbortSignal | undefined;
  /** Maps an SDK failure of `operation` on `key` (repository-relative) to the error to throw. */
  describeError(error: unknown, operation: string, key: string): unknown;
}

/**
 * Lists the uploads under the prefix page by page and aborts those initiated before now - olderThanMs.
 * Returns how many it aborted. Age is the store's Initiated time against this host's clock, so keep
 * olderThanMs far above any clock skew and above the longest upload; an upload with no Initiated is kept.
 */
export async function abortStaleUploads(request: AbortStaleUploadsRequest): Promise<number> {
  const { client, bucket, prefix, signal } = request;
  const cutoffMs = Date.now() - request.olderThanMs;
  let removed = 0;
  const abortUpload = async (upload: MultipartUpload): Promise<void> => {
    try {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key, UploadId: upload.UploadId }), { abortSignal: signal });
      removed++;
    } catch (error) {
      // Completed or aborted by its own writer meanwhile: nothing left to clean.
      if (s3ErrorName(error) !== 'NoSuchUpload') throw request.describeError(error, 'abort leftover upload', (upload.Key ?? '').slice(prefix.length));
    }
  };
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (;;) {
    const command = new ListMultipartUploadsCommand({
      Bucket: bucket,
      Prefix: prefix,
      MaxUploads: request.pageSize,
      ...(keyMarker === undefined ? {} : { KeyMarker: keyMarker }),
      ...(uploadIdMarker === undefined ? {} : { UploadIdMarker: uploadIdMarker }),
    });
    let page;
    try {
      page = await client.send(command, { abortSignal: signal });
    } catch (error) {
      throw request.describeError(error, 'list leftover uploads under', prefix);
    }
    const stale = (page.Uploads ?? []).filter(
      (upload) => upload.Key !== undefined && upload.UploadId !== undefined && upload.Initiated !== undefined && upload.Initiated.getTime() <= cutoffMs,
    );
    try {
      await forEachBounded(stale, ABORT_CONCURRENCY, abortUpload, signal);
    } catch (error) {
      throw request.describeError(error, 'clean up', prefix);
    }
    // Aborting only removes entries at or before the markers, so the next page is unaffected by it.
    if (page.IsTruncated !== true || page.NextKeyMarker === undefined) return removed;
    keyMarker = page.NextKeyMarker;
    uploadIdMarker = page.NextUploadIdMarker;
  }
}
