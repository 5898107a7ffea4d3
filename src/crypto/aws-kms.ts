// The aws-kms part of the crypto capability, an entry of its own: importing it loads the AWS SDK's KMS client and
// the ESDK's KMS keyring (with its DynamoDB client), ~25 MB that a repository on the local key never needs. The
// crypto index only loads it on demand (loadAwsKmsKeyProvider); tests and tools import it directly.
export { createAwsKmsKeyProvider, type AwsKmsKeyProviderOptions } from './aws-kms-key-provider.js';
export { createKmsClient, kmsEndpointOf, type KmsConnectionOptions, type KmsCredentials } from './kms-client.js';
