// The `local` key provider: data keys are wrapped with AES-256-GCM under a key read from a private key file. The
// wrapping key is named by its key id (derived from the key), so a wrong key file is reported as such instead of
// as a corrupt object.
import type { EncryptedDataKey, NodeDecryptionMaterial, NodeEncryptionMaterial } from '@aws-crypto/material-management-node';
import { RawAesKeyringNode, RawAesWrappingSuiteIdentifier } from '@aws-crypto/raw-aes-keyring-node';
import { LifeboatError } from '../errors/index.js';
import type { KeyProvider } from './key-provider.js';
import { formatLocalKeyId, loadLocalKeyFile, type LocalKeyFileOptions } from './local-key-file.js';

/** The ESDK key namespace (provider id) of Lifeboat's local keys. */
export const LOCAL_KEY_NAMESPACE = 'lifeboat';

/** Options for {@link createLocalKeyProvider}: the key file and whether to create it on first use. */
export type LocalKeyProviderOptions = LocalKeyFileOptions;

/** Load the key file (see loadLocalKeyFile for the errors) and build the provider on it. */
export async function createLocalKeyProvider(options: LocalKeyProviderOptions): Promise<KeyProvider> {
  const key = await loadLocalKeyFile(options);
  try {
    return createLocalKeyProviderFromKey(key, options.path);
  } finally {
    key.fill(0);
  }
}

function describeOtherKeys(encryptedDataKeys: readonly EncryptedDataKey[]): string {
  const names = encryptedDataKeys.map((edk) =>
    edk.providerId === LOCAL_KEY_NAMESPACE ? `local key id ${edk.providerInfo.slice(0, 16)}` : `${edk.providerId} key ${edk.providerInfo}`,
  );
  return [...new Set(names)].join(' or ') || 'no key at all';
}

/** The provider for an already loaded 32-byte `key` (copied); `source` names where it came from, for messages. */
export function createLocalKeyProviderFromKey(key: Uint8Array, source: string): KeyProvider {
  const keyId = formatLocalKeyId(key);
  // The ESDK wants the key alone in its own ArrayBuffer (Buffers from hex parsing share a pool).
  const masterKey = new Uint8Array(key);
  const keyring = new RawAesKeyringNode({
    keyNamespace: LOCAL_KEY_NAMESPACE,
    keyName: keyId,
    unencryptedMasterKey: masterKey,
    wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
    // Sort the context by UTF-8 bytes, as the message header does (the same order for Lifeboat's ASCII keys).
    utf8Sorting: true,
  });
  const ours = (edk: EncryptedDataKey): boolean => edk.providerId === LOCAL_KEY_NAMESPACE && edk.providerInfo.startsWith(keyId);

  return {
    kind: 'local',
    keyId,
    description: `key file ${source} (key id ${keyId})`,

    generateDataKey(material: NodeEncryptionMaterial): Promise<NodeEncryptionMaterial> {
      return keyring.onEncrypt(material);
    },

    async unwrapDataKey(material: NodeDecryptionMaterial, encryptedDataKeys: readonly EncryptedDataKey[]): Promise<NodeDecryptionMaterial> {
      const mine = encryptedDataKeys.filter(ours);
      if (mine.length === 0) {
        throw new LifeboatError('wrongKey', `key id ${keyId} is not the key it was encrypted with (it needs ${describeOtherKeys(encryptedDataKeys)})`, {
          hint: `configure the key file holding the key it was written with; ${source} holds key id ${keyId}`,
        });
      }
      // The keyring swallows unwrap failures and leaves the material without a key; that is checked below.
      await keyring.onDecrypt(material, mine);
      if (!material.hasValidKey()) {
        throw new LifeboatError('objectCorrupted', `its data key does not open with key id ${keyId} although the key id matches: its header was altered`, {
          hint: 'the stored copy is damaged; use another copy or backup',
        });
      }
      return material;
    },

    resolveKeyIds: () => Promise.resolve([keyId]),

    keyIdOf: () => keyId,

    close(): void {
      masterKey.fill(0);
    },
  };
}
