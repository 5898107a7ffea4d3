// Turns an AWS SDK error from a KMS call into the LifeboatError an operator can act on: unreachable endpoint,
// refused access, missing or disabled key, wrong key, or an altered data key. Messages never name an object
// (the session adds it) and hints name the endpoint and region, since that is what the operator must check.
import { LifeboatError } from '../errors/index.js';

/** The KMS operations Lifeboat calls. */
export type KmsOperation = 'GenerateDataKey' | 'Encrypt' | 'Decrypt' | 'DescribeKey';

/** Where the failed call went. */
export interface KmsCallSite {
  operation: KmsOperation;
  /** The key id, alias or ARN the call named. */
  keyId: string;
  region: string;
  /** The endpoint URL called, configured or the regional default. */
  endpoint: string;
}

const ACCESS_ERRORS = new Set([
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
  'InvalidClientTokenId',
]);

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** True for errors the SDK got as an HTTP answer from KMS (as opposed to network failures and timeouts). */
function isServiceError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && '$fault' in error;
}

function attemptsOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('$metadata' in error)) return undefined;
  const metadata = (error as { $metadata?: { attempts?: unknown } }).$metadata;
  return typeof metadata?.attempts === 'number' ? metadata.attempts : undefined;
}

/** The LifeboatError for `error`, thrown by KMS call `site`. Already-mapped errors pass through. */
export function mapKmsError(error: unknown, site: KmsCallSite): LifeboatError {
  if (error instanceof LifeboatError) return error;
  const { operation, keyId, region, endpoint } = site;
  const name = errorName(error);
  const detail = errorMessage(error);
  const options = (hint: string) => ({ hint, cause: error });
  if (name === 'AbortError') {
    return new LifeboatError('aborted', `the kms ${operation} call for key ${keyId} was aborted`, options('the operation was cancelled; run it again'));
  }
  if (name === 'CredentialsProviderError') {
    return new LifeboatError('kmsUnavailable', `no aws credentials to call kms in ${region}: ${detail}`, options(
      'configure credentials for the kms key provider (or the instance/task role) and check they resolve on this host',
    ));
  }
  if (!isServiceError(error)) {
    const attempts = attemptsOf(error);
    return new LifeboatError('kmsUnavailable', `aws kms is unreachable at ${endpoint} (region ${region}): ${detail}`, options(
      `check that this host can reach ${endpoint} (firewall, proxy, VPC endpoint) and that region ${region} is right` +
        (attempts === undefined ? '' : `; the call was tried ${attempts} times`),
    ));
  }
  switch (name) {
    case 'NotFoundException':
      return new LifeboatError('kmsUnavailable', `kms key ${keyId} does not exist in region ${region}`, options(
        'check the key id, alias or ARN and the region of the kms key provider',
      ));
    case 'DisabledException':
    case 'KMSInvalidStateException':
      return new LifeboatError('kmsUnavailable', `kms key ${keyId} is disabled or pending deletion (${name})`, options(
        'enable the key or cancel its deletion in AWS KMS; objects encrypted under it cannot be read until then',
      ));
    case 'IncorrectKeyException':
      return new LifeboatError('wrongKey', `kms key ${keyId} is not the key its data key was encrypted with`, options(
        'configure the kms key this repository was written with',
      ));
    case 'InvalidCiphertextException':
      return new LifeboatError('objectCorrupted', `aws kms rejected its encrypted data key: the key blob or its encryption context was altered`, options(
        'the object header is damaged or the object was moved from another backup; use another copy or backup',
      ));
    case 'InvalidKeyUsageException':
      return new LifeboatError('config', `kms key ${keyId} cannot be used to encrypt data keys: ${detail}`, options(
        'use a symmetric ENCRYPT_DECRYPT kms key',
      ));
    default:
      if (ACCESS_ERRORS.has(name)) {
        return new LifeboatError('kmsUnavailable', `aws kms refused ${operation} on key ${keyId}: ${detail}`, options(
          `check the credentials and that the key policy or IAM policy allows kms:${operation} on ${keyId} in ${region}`,
        ));
      }
      return new LifeboatError('kmsUnavailable', `aws kms failed ${operation} on key ${keyId} at ${endpoint}: ${name}: ${detail}`, options(
        'retry later; if it persists check the AWS KMS service health for the region',
      ));
  }
}
