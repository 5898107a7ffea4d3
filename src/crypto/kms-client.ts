// Builds the KMS client of the aws-kms key provider (region, optional endpoint for moto or a VPC endpoint, optional
// static credentials) with retries and timeouts bounded so an unreachable KMS fails in seconds, not minutes; and
// the small adapter through which the ESDK keyring calls it, which adds the AbortSignal, error mapping and counting.
import {
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  KMSClient,
} from '@aws-sdk/client-kms';
import type { KmsNodeClientSupplier } from '@aws-crypto/kms-keyring-node';
import type { LifeboatError } from '../errors/index.js';
import { registerSecret } from '../log/index.js';
import { mapKmsError, type KmsOperation } from './map-kms-error.js';

/** Static AWS credentials; omit to use the default chain (environment, profile, instance or task role). */
export interface KmsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** How to reach KMS. */
export interface KmsConnectionOptions {
  /** AWS region of the key, e.g. `eu-central-1`. */
  region: string;
  /** Endpoint URL override (moto, LocalStack, a VPC endpoint). Default: the regional AWS endpoint. */
  endpoint?: string;
  credentials?: KmsCredentials;
  /** Attempts per call, first included. Default 3. */
  maxAttempts?: number;
  /** TCP connect timeout per attempt. Default 2000 ms. */
  connectionTimeoutMs?: number;
  /** Socket idle timeout per attempt. Default 10 000 ms. */
  requestTimeoutMs?: number;
}

/** The interface the ESDK KMS keyring calls. */
export type EsdkKmsClient = Exclude<ReturnType<KmsNodeClientSupplier>, false>;

/** The endpoint calls go to, for messages. */
export function kmsEndpointOf(options: Pick<KmsConnectionOptions, 'region' | 'endpoint'>): string {
  return options.endpoint ?? `https://kms.${options.region}.amazonaws.com`;
}

/** A KMS client for `options`; the caller destroys it. */
export function createKmsClient(options: KmsConnectionOptions): KMSClient {
  if (options.credentials !== undefined) {
    registerSecret(options.credentials.secretAccessKey);
    if (options.credentials.sessionToken !== undefined) registerSecret(options.credentials.sessionToken);
  }
  return new KMSClient({
    region: options.region,
    endpoint: options.endpoint,
    credentials: options.credentials,
    maxAttempts: options.maxAttempts ?? 3,
    requestHandler: {
      connectionTimeout: options.connectionTimeoutMs ?? 2000,
      requestTimeout: options.requestTimeoutMs ?? 10_000,
    },
  });
}

/** Per-request context of the adapter. */
export interface KmsAdapterContext {
  region: string;
  endpoint: string;
  /** Cancels the calls. */
  signal?: AbortSignal;
  /** Mapped errors are appended here: the ESDK swallows Decrypt errors into one string, this keeps them whole. */
  errors: LifeboatError[];
  /** Called before each request (metrics; tests count calls with it). */
  onRequest?: (operation: KmsOperation) => void;
}

/** The ESDK-facing view of `client` for one data key request. */
export function createEsdkKmsClient(client: KMSClient, context: KmsAdapterContext): EsdkKmsClient {
  const { region, endpoint, signal, errors, onRequest } = context;
  async function call<T>(operation: KmsOperation, keyId: string, send: () => Promise<T>): Promise<T> {
    onRequest?.(operation);
    try {
      return await send();
    } catch (error) {
      const mapped = mapKmsError(error, { operation, keyId, region, endpoint });
      errors.push(mapped);
      throw mapped;
    }
  }
  const options = { abortSignal: signal };
  return {
    generateDataKey: (input) =>
      call('GenerateDataKey', input.KeyId, () => client.send(new GenerateDataKeyCommand(input), options)),
    encrypt: (input) => call('Encrypt', input.KeyId, () => client.send(new EncryptCommand(input), options)),
    decrypt: (input) => call('Decrypt', input.KeyId ?? 'unknown', () => client.send(new DecryptCommand(input), options)),
  };
}
