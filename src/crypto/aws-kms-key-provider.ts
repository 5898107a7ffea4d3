// The `aws-kms` key provider: KMS generates each data key (GenerateDataKey) and decrypts it on read (Decrypt),
// bound to the object's encryption context. Extra key ids (e.g. a multi-region replica key) get a copy of every
// data key, so either key can open it. Every call carries the caller's AbortSignal and maps errors via map-kms-error.
import { DescribeKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { KmsKeyringNode } from '@aws-crypto/kms-keyring-node';
import type { EncryptedDataKey, NodeDecryptionMaterial, NodeEncryptionMaterial } from '@aws-crypto/material-management-node';
import { LifeboatError } from '../errors/index.js';
import type { DataKeyRequest, KeyProvider } from './key-provider.js';
import { createEsdkKmsClient, createKmsClient, kmsEndpointOf, type KmsConnectionOptions } from './kms-client.js';
import { mapKmsError, type KmsOperation } from './map-kms-error.js';

/** The ESDK provider id of KMS-wrapped data keys. */
const KMS_PROVIDER_ID = 'aws-kms';

const KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/.+$/;

/** Options for {@link createAwsKmsKeyProvider}. */
export interface AwsKmsKeyProviderOptions extends KmsConnectionOptions {
  /** The key that generates data keys: key id, `alias/name`, key ARN or alias ARN. */
  keyId: string;
  /** Further keys that each also wrap every data key (e.g. a multi-region replica), as key ARNs. Default none. */
  additionalKeyIds?: readonly string[];
  /**
   * Endpoint overrides for keys in other regions than `region` (`endpoint` applies to `region` only, since VPC
   * endpoints are regional). Default: the regional AWS endpoint.
   */
  regionEndpoints?: Readonly<Record<string, string>>;
  /** Called before every KMS request: metrics, and the tests that prove one call per session. */
  onRequest?: (operation: KmsOperation) => void;
}

function describeEncryptedDataKeys(encryptedDataKeys: readonly EncryptedDataKey[]): string {
  const names = encryptedDataKeys.map((edk) => (edk.providerId === KMS_PROVIDER_ID ? `kms key ${edk.providerInfo}` : `a ${edk.providerId} key`));
  return [...new Set(names)].join(' or ') || 'no key at all';
}

/** Build the provider. No KMS call until the first data key; throws LifeboatError `config` for a malformed key id. */
export function createAwsKmsKeyProvider(options: AwsKmsKeyProviderOptions): KeyProvider {
  const { keyId, onRequest } = options;
  const additionalKeyIds = [...(options.additionalKeyIds ?? [])];
  const clients = new Map<string, KMSClient>();
  let resolvedArns: Promise<string[]> | undefined;

  try {
    // The keyring validates the ids' syntax; fail at startup rather than at the first backup.
    new KmsKeyringNode({ generatorKeyId: keyId, keyIds: additionalKeyIds, clientProvider: () => false });
  } catch (error) {
    throw new LifeboatError('config', `kms key id ${[keyId, ...additionalKeyIds].join(', ')} is not a key id, alias or ARN`, {
      hint: 'use a key id, alias/<name>, or an arn:aws:kms:<region>:<account>:key/<id> ARN',
      cause: error,
    });
  }

  /** The client for keys in `region` ('' for aliases and bare ids, which live in the provider's region). */
  function connectionFor(region: string): { client: KMSClient; region: string; endpoint: string } {
    const effective = region === '' ? options.region : region;
    const endpoint = effective === options.region ? options.endpoint : options.regionEndpoints?.[effective];
    let client = clients.get(effective);
    if (client === undefined) {
      client = createKmsClient({ ...options, region: effective, endpoint });
      clients.set(effective, client);
    }
    return { client, region: effective, endpoint: kmsEndpointOf({ region: effective, endpoint }) };
  }

  function keyringFor(request: DataKeyRequest, errors: LifeboatError[], keys: { generatorKeyId?: string; keyIds: string[] }): KmsKeyringNode {
    return new KmsKeyringNode({
      ...keys,
      clientProvider: (region: string) => {
        const { client, endpoint, region: effective } = connectionFor(region);
        return createEsdkKmsClient(client, { region: effective, endpoint, signal: request.signal, errors, onRequest });
      },
    });
  }

  function unexpected(error: unknown, operation: KmsOperation): LifeboatError {
    const { endpoint, region } = connectionFor('');
    const message = error instanceof Error ? error.message : String(error);
    return new LifeboatError('kmsUnavailable', `aws kms ${operation} with key ${keyId} returned an unusable answer: ${message}`, {
      hint: `check that ${endpoint} (region ${region}) is AWS KMS or a faithful emulator`,
      cause: error,
    });
  }

  /** The ARNs of the configured keys: data key copies name their key by ARN, so aliases must be resolved. */
  async function resolveKeyArns(request: DataKeyRequest): Promise<string[]> {
    const resolveOne = async (id: string): Promise<string> => {
      if (KEY_ARN.test(id)) return id;
      const { client, region, endpoint } = connectionFor('');
      onRequest?.('DescribeKey');
      try {
        const answer = await client.send(new DescribeKeyCommand({ KeyId: id }), { abortSignal: request.signal });
        const arn = answer.KeyMetadata?.Arn;
        if (arn === undefined) throw new Error('DescribeKey returned no key ARN');
        return arn;
      } catch (error) {
        throw mapKmsError(error, { operation: 'DescribeKey', keyId: id, region, endpoint });
      }
    };
    resolvedArns ??= Promise.all([keyId, ...additionalKeyIds].map(resolveOne));
    try {
      return await resolvedArns;
    } catch (error) {
      resolvedArns = undefined;
      throw error;
    }
  }

  return {
    kind: 'aws-kms',
    keyId,
    description: `aws kms key ${keyId} in ${options.region}${options.endpoint === undefined ? '' : ` at ${options.endpoint}`}`,

    async generateDataKey(material: NodeEncryptionMaterial, request: DataKeyRequest): Promise<NodeEncryptionMaterial> {
      const errors: LifeboatError[] = [];
      try {
        return await keyringFor(request, errors, { generatorKeyId: keyId, keyIds: additionalKeyIds }).onEncrypt(material);
      } catch (error) {
        throw errors[0] ?? unexpected(error, 'GenerateDataKey');
      }
    },

    async unwrapDataKey(
      material: NodeDecryptionMaterial,
      encryptedDataKeys: readonly EncryptedDataKey[],
      request: DataKeyRequest,
    ): Promise<NodeDecryptionMaterial> {
      const arns = await resolveKeyArns(request);
      const mine = encryptedDataKeys.filter((edk) => edk.providerId === KMS_PROVIDER_ID && arns.includes(edk.providerInfo));
      if (mine.length === 0) {
        throw new LifeboatError('wrongKey', `kms key ${keyId} is not the key it was encrypted with (it needs ${describeEncryptedDataKeys(encryptedDataKeys)})`, {
          hint: 'configure the kms key (or a multi-region replica of it) this repository was written with',
        });
      }
      const errors: LifeboatError[] = [];
      try {
        await keyringFor(request, errors, { keyIds: arns }).onDecrypt(material, [...mine]);
      } catch (error) {
        throw errors[0] ?? unexpected(error, 'Decrypt');
      }
      if (!material.hasValidKey()) throw errors[0] ?? unexpected(new Error('no data key was decrypted'), 'Decrypt');
      return material;
    },

    resolveKeyIds: (request: DataKeyRequest) => resolveKeyArns(request),

    keyIdOf(encryptedDataKeys: readonly EncryptedDataKey[]): string {
      return encryptedDataKeys.find((edk) => edk.providerId === KMS_PROVIDER_ID)?.providerInfo ?? keyId;
    },

    close(): void {
      for (const client of clients.values()) client.destroy();
      clients.clear();
    },
  };
}
