// The refusals of a key the repository does not know: a missing key file (`keyFile`) or another key than the
// recorded one (`wrongKey`). Each names the key the repository expects, where Lifeboat looked, and what to do.
import type { KeyProvider, KeyProviderKind } from '../crypto/index.js';
import { LifeboatError } from '../errors/index.js';
import { repositoryKeysKey } from '../storage/index.js';
import { formatRecordedKeys, type RepositoryKeys } from './repository-keys.js';

/** What the messages need to know about the repository. */
export interface RepositoryKeyFacts {
  /** storage.location. */
  location: string;
  record?: RepositoryKeys;
  /** An object holding data, when the repository was found to hold any; undefined when it is empty. */
  dataKey?: string;
}

const NEW_REPOSITORY = 'to start a new repository instead, point repository at an empty folder or prefix and run `lifeboat repository init`';

function emptyRepositoryEscape(facts: RepositoryKeyFacts): string {
  return (
    `; the repository holds no backups or WAL yet, so if that key is lost you may delete ${repositoryKeysKey()} from ` +
    `${facts.location} and run \`lifeboat repository init\``
  );
}

function configureHint(record: RepositoryKeys, configured: KeyProviderKind): string {
  if (record.provider === 'local') {
    const provider = configured === 'local' ? '' : 'set encryption.provider to local and ';
    return `${provider}point encryption.keyFile at the key file holding key id ${record.keyIds[0]} (restore it from your key backup)`;
  }
  const provider = configured === 'aws-kms' ? '' : 'set encryption.provider to aws-kms and ';
  return `${provider}set encryption.keyId to ${record.keyIds[0]} (or an alias of it)`;
}

/** `keyFile`: the configured key file does not exist, and the repository has a recorded key or holds data. */
export function missingKeyFileError(path: string, facts: RepositoryKeyFacts): LifeboatError {
  const { record, dataKey, location } = facts;
  if (record) {
    return new LifeboatError('keyFile', (
      `key file ${path} does not exist, and repository ${location} is encrypted for ${formatRecordedKeys(record)} ` +
      `(recorded in ${repositoryKeysKey()}); no new key is created for a repository that has one`
    ), { hint: `${configureHint(record, 'local')}; ${NEW_REPOSITORY}${dataKey === undefined ? emptyRepositoryEscape(facts) : ''}` });
  }
  return new LifeboatError('keyFile', (
    `key file ${path} does not exist, and repository ${location} already holds data (${dataKey ?? 'objects'}) ` +
    'encrypted with an existing key; no new key is created for a repository that holds data'
  ), { hint: `point encryption.keyFile at the original key file (restore it from your key backup); ${NEW_REPOSITORY}` });
}

/** `wrongKey`: the configured key is not one the repository's record names. */
export function unrecordedKeyError(keys: KeyProvider, keyIds: readonly string[], facts: RepositoryKeyFacts & { record: RepositoryKeys }): LifeboatError {
  const { record, location } = facts;
  const configured = keys.kind === 'aws-kms' && keyIds[0] !== keys.keyId ? `${keys.description} (${keyIds[0] ?? '?'})` : keys.description;
  return new LifeboatError('wrongKey', (
    `${configured} is not the key repository ${location} is encrypted for: it records ${formatRecordedKeys(record)} ` +
    `(in ${repositoryKeysKey()})`
  ), { hint: `${configureHint(record, keys.kind)}; lifeboat never writes one repository with two keys${facts.dataKey === undefined ? emptyRepositoryEscape(facts) : ''}` });
}

/** `wrongKey`: a repository without a record holds an object the configured key does not open. */
export function unprovenKeyError(keys: KeyProvider, objectKey: string, location: string, cause: LifeboatError): LifeboatError {
  return new LifeboatError('wrongKey', (
    `${keys.description} does not open the existing objects of repository ${location}, so it is not recorded as its key: ${cause.message}`
  ), {
    hint: `configure the key object ${objectKey} was written with (the message names its key id); the repository records a key only once it is proven to open its data`,
    cause,
  });
}
