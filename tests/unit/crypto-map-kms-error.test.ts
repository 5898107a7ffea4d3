// How KMS failures read: each AWS SDK error class (as the SDK itself builds them) maps to the code and message
// an operator can act on. Moto cannot produce some of them (disabled keys, throttling), hence this unit test.
import {
  DisabledException,
  IncorrectKeyException,
  InvalidCiphertextException,
  KMSInternalException,
  KMSInvalidStateException,
  KMSServiceException,
  NotFoundException,
} from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { mapKmsError } from '../../src/crypto/map-kms-error.js';
import { LifeboatError, type ErrorCode } from '../../src/errors/index.js';

const site = { operation: 'Decrypt', keyId: 'arn:aws:kms:eu-central-1:111122223333:key/k', region: 'eu-central-1', endpoint: 'https://kms.eu-central-1.amazonaws.com' } as const;
const serviceError = <T>(ErrorClass: new (options: { message: string; $metadata: object }) => T): T =>
  new ErrorClass({ message: 'service says no', $metadata: { httpStatusCode: 400, attempts: 1 } });

// KMS has no modeled AccessDeniedException; the SDK raises its service exception with that name.
const accessDenied = new KMSServiceException({ name: 'AccessDeniedException', $fault: 'client', message: 'service says no', $metadata: {} });

describe('mapKmsError', () => {
  const cases: [string, unknown, ErrorCode, RegExp][] = [
    ['not found', serviceError(NotFoundException), 'kmsUnavailable', /^kms key arn:.+:key\/k does not exist in region eu-central-1$/],
    ['disabled', serviceError(DisabledException), 'kmsUnavailable', /is disabled or pending deletion \(DisabledException\)$/],
    ['pending deletion', serviceError(KMSInvalidStateException), 'kmsUnavailable', /is disabled or pending deletion/],
    ['access denied', accessDenied, 'kmsUnavailable', /^aws kms refused Decrypt on key arn:.+: service says no$/],
    ['incorrect key', serviceError(IncorrectKeyException), 'wrongKey', /is not the key its data key was encrypted with$/],
    ['invalid ciphertext', serviceError(InvalidCiphertextException), 'objectCorrupted', /rejected its encrypted data key/],
    ['internal', serviceError(KMSInternalException), 'kmsUnavailable', /^aws kms failed Decrypt on key .+ at https:\/\/kms\.eu-central-1\.amazonaws\.com: KMSInternalException/],
  ];
  for (const [name, error, code, message] of cases) {
    it(`${name} -> ${code}`, () => {
      const mapped = mapKmsError(error, site);
      expect(mapped.code).toBe(code);
      expect(mapped.message).toMatch(message);
      expect(mapped.hint).toBeTruthy();
      expect(mapped.cause).toBe(error);
    });
  }

  it('a network failure -> kmsUnavailable naming endpoint, region and attempts', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED', $metadata: { attempts: 3 } });
    const mapped = mapKmsError(refused, site);
    expect(mapped.code).toBe('kmsUnavailable');
    expect(mapped.message).toBe('aws kms is unreachable at https://kms.eu-central-1.amazonaws.com (region eu-central-1): connect ECONNREFUSED 10.0.0.1:443');
    expect(mapped.hint).toMatch(/https:\/\/kms\.eu-central-1\.amazonaws\.com .*tried 3 times/);
  });

  it('a timeout -> kmsUnavailable; an abort -> aborted; a LifeboatError passes through', () => {
    const timeout = Object.assign(new Error('Connection timed out after 2000 ms'), { name: 'TimeoutError' });
    expect(mapKmsError(timeout, site).code).toBe('kmsUnavailable');
    const abort = Object.assign(new Error('Request aborted'), { name: 'AbortError' });
    expect(mapKmsError(abort, site).code).toBe('aborted');
    const mapped = new LifeboatError('wrongKey', 'already mapped');
    expect(mapKmsError(mapped, site)).toBe(mapped);
  });
});
