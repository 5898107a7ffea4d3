// Tells a real create-only conflict from our own retry tripping over itself: when the SDK retries a
// PutObject / CompleteMultipartUpload whose first response was lost, the retry meets the object that first
// attempt created and gets 412. Comparing the stored ETag with the one our bytes produce settles it.
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { s3Attempts, s3HttpStatus } from './s3-errors.js';

/** How long the deciding HEAD may take. */
const HEAD_TIMEOUT_MS = 30_000;

/**
 * True when `error` is a 412 on a retried request and the object now at `objectKey` has `expectedEtag`
 * (quoted, as S3 returns it), i.e. an earlier attempt of this very write succeeded. False otherwise,
 * including when the HEAD fails: then the 412 stands and the caller reports `objectExists`.
 */
export async function wasWrittenByEarlierAttempt(
  client: S3Client,
  bucket: string,
  objectKey: string,
  error: unknown,
  expectedEtag: string,
): Promise<boolean> {
  // A 412 on the first attempt is authoritative: someone else's object was there before we wrote anything.
  if (s3HttpStatus(error) !== 412 || s3Attempts(error) < 2) return false;
  try {
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: objectKey }), {
      abortSignal: AbortSignal.timeout(HEAD_TIMEOUT_MS),
    });
    return head.ETag === expectedEtag;
  } catch {
    return false;
  }
}
