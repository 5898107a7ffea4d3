// The config capability: schema, loader, secret references, and the formatters built on the schema.
export * from './config-schema.js';
export { Secret, resolveSecret, resolveSecretWhenUsed, secretReferenceSchema, type SecretReference } from './secret-reference.js';
export {
  loadConfig,
  readConfigFile,
  parseConfig,
  resolveConfig,
  checkSecrets,
  selectCluster,
  type RuntimeConfig,
  type RuntimeCluster,
  type RuntimeRepository,
  type RuntimeEncryption,
  type AwsCredentials,
  type Resolved,
} from './load-config.js';
export { formatResolvedConfig, maskConfig } from './format-resolved-config.js';
export { formatConfigReference, REFERENCE_START, REFERENCE_END } from './format-config-reference.js';
export { formatPath, suggestKey } from './format-config-issues.js';
export { describeCronProblem, isKnownTimeZone, nextCronRuns } from './cron-schedule.js';
