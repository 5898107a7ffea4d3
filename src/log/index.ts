// The logging capability: the logger factory and the secret scrubber.
export { createLogger, type Logger, type LoggerOptions } from './create-logger.js';
export { registerSecret, redactSecrets, clearSecretsForTests, containsSecret, withoutSecretVariables } from './secret-registry.js';
