// Reads the YAML config file, validates it once (every error names the path and the fix), anchors relative
// paths at the config file's folder, resolves secret references, and returns a frozen runtime config. A secret
// that cannot be resolved fails where it is used, so a command needs only the secrets of the sections it uses.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { LifeboatError } from '../errors/index.js';
import { configSchema, type Config } from './config-schema.js';
import { configKeysAt } from './config-json-schema.js';
import { formatConfigIssues } from './format-config-issues.js';
import { resolveSecretWhenUsed, Secret, type SecretReference } from './secret-reference.js';

/** Replaces every secret reference in a config type by its resolved Secret. */
export type Resolved<T> = T extends SecretReference
  ? Secret
  : T extends (infer U)[]
    ? Resolved<U>[]
    : T extends object
      ? { readonly [K in keyof T]: Resolved<T[K]> }
      : T;

/** The validated configuration with secrets resolved and paths absolute; frozen, passed down, never re-read. */
export type RuntimeConfig = Resolved<Config> & { readonly configPath: string };
export type RuntimeCluster = RuntimeConfig['clusters'][number];
export type RuntimeRepository = RuntimeConfig['repository'];
export type RuntimeEncryption = RuntimeConfig['encryption'];
export type AwsCredentials = NonNullable<Extract<RuntimeRepository, { driver: 's3' }>['credentials']>;

/** Validate an already-parsed YAML/JSON value; `source` names it in errors. */
export function parseConfig(value: unknown, source: string): Config {
  const result = configSchema.safeParse(value);
  if (result.success) return result.data;
  const lines = formatConfigIssues(result.error.issues, configKeysAt);
  throw new LifeboatError('config', `invalid configuration in ${source}:\n  ${lines.join('\n  ').replace(/\n(?! {2})/g, '\n  ')}`, {
    hint: 'fix the fields named above; README.md "Configuration reference" lists every key',
  });
}

/** Read and validate a config file without resolving secrets. */
export function readConfigFile(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new LifeboatError('config', `cannot read config file ${path}`, {
      hint: 'pass --config FILE or set LIFEBOAT_CONFIG; config/lifeboat.local.yaml is a working example',
      cause: error,
    });
  }
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new LifeboatError('config', `config file ${path} is not valid YAML: ${document.errors.map((e) => e.message).join('; ')}`, {
      hint: 'fix the YAML syntax at the line shown',
    });
  }
  return parseConfig(document.toJS() ?? {}, path);
}

function resolveReference<T extends SecretReference | undefined>(
  reference: T,
  field: string,
  baseDir: string,
  env: NodeJS.ProcessEnv,
): T extends SecretReference ? Secret : undefined {
  return (reference === undefined ? undefined : resolveSecretWhenUsed(reference, field, baseDir, env)) as T extends SecretReference ? Secret : undefined;
}

function resolveCredentials(
  credentials: { accessKeyId: SecretReference; secretAccessKey: SecretReference; sessionToken?: SecretReference | undefined } | undefined,
  field: string,
  baseDir: string,
  env: NodeJS.ProcessEnv,
): AwsCredentials | undefined {
  if (!credentials) return undefined;
  return {
    accessKeyId: resolveSecretWhenUsed(credentials.accessKeyId, `${field}.accessKeyId`, baseDir, env),
    secretAccessKey: resolveSecretWhenUsed(credentials.secretAccessKey, `${field}.secretAccessKey`, baseDir, env),
    sessionToken: resolveReference(credentials.sessionToken, `${field}.sessionToken`, baseDir, env),
  };
}

/**
 * Resolve secrets and anchor relative paths at `baseDir` (the config file's folder). A secret reference that
 * cannot be resolved does not fail here but where its value is revealed; {@link checkSecrets} fails on all of them.
 */
export function resolveConfig(config: Config, configPath: string, env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const baseDir = dirname(resolve(configPath));
  const anchor = (path: string): string => (isAbsolute(path) ? path : resolve(baseDir, path));
  const repository: RuntimeRepository =
    config.repository.driver === 'fs'
      ? { ...config.repository, path: anchor(config.repository.path) }
      : { ...config.repository, credentials: resolveCredentials(config.repository.credentials, 'repository.credentials', baseDir, env) };
  const encryption: RuntimeEncryption =
    config.encryption.provider === 'local'
      ? { ...config.encryption, keyFile: anchor(config.encryption.keyFile) }
      : { ...config.encryption, credentials: resolveCredentials(config.encryption.credentials, 'encryption.credentials', baseDir, env) };
  const clusters = config.clusters.map((cluster, index) => ({
    ...cluster,
    postgres: {
      ...cluster.postgres,
      password: resolveReference(cluster.postgres.password, `clusters[${index}].postgres.password`, baseDir, env),
      sslrootcert: cluster.postgres.sslrootcert === undefined ? undefined : anchor(cluster.postgres.sslrootcert),
      bindir: cluster.postgres.bindir === undefined ? undefined : anchor(cluster.postgres.bindir),
    },
    drill: { ...cluster.drill, scenario: cluster.drill.scenario === undefined ? undefined : anchor(cluster.drill.scenario) },
  }));
  const redis = config.redis && { ...config.redis, password: resolveReference(config.redis.password, 'redis.password', baseDir, env) };
  return deepFreeze({ ...config, stateDir: anchor(config.stateDir), clusters, repository, encryption, redis, configPath: resolve(configPath) });
}

/** Read, validate and resolve a config file: what every command calls once at start-up. */
export function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  return resolveConfig(readConfigFile(path), path, env);
}

/** Every secret in `value`, with the config path it sits at. */
function secretsIn(value: unknown, path: string, out: { path: string; secret: Secret }[]): { path: string; secret: Secret }[] {
  if (value instanceof Secret) out.push({ path, secret: value });
  else if (Array.isArray(value)) value.forEach((item, index) => secretsIn(item, `${path}[${index}]`, out));
  else if (value !== null && typeof value === 'object') for (const [key, child] of Object.entries(value)) secretsIn(child, path === '' ? key : `${path}.${key}`, out);
  return out;
}

/** Throws a `secret` error naming every secret reference of `config` that cannot be resolved (`config check`). */
export function checkSecrets(config: RuntimeConfig): void {
  const errors = secretsIn(config, '', []).flatMap(({ secret }) => (secret.error ? [secret.error] : []));
  if (errors.length === 1) throw errors[0]!;
  if (errors.length > 1) {
    throw new LifeboatError('secret', `${errors.length} secret references cannot be resolved:\n  ${errors.map((e) => e.message).join('\n  ')}`, {
      hint: errors.map((e) => e.hint).filter(Boolean).join('; '),
    });
  }
}

/**
 * The cluster named `name`, or the only one when `name` is omitted: for commands that work on a configured
 * cluster (they connect to it). A restore-only config has no clusters; such a command then says so.
 */
export function selectCluster(config: RuntimeConfig, name: string | undefined): RuntimeCluster {
  if (config.clusters.length === 0) {
    throw new LifeboatError('config', `${config.configPath} configures no cluster${name === undefined ? '' : ` (asked for "${name}")`}, and this command works on one`, {
      hint: 'add the cluster under clusters: (name and postgres settings); restore, backups list and verify need only repository and encryption',
    });
  }
  if (name === undefined) {
    if (config.clusters.length === 1) return config.clusters[0]!;
    throw new LifeboatError('usage', `the config has ${config.clusters.length} clusters; name one with --cluster`, {
      hint: `clusters: ${config.clusters.map((c) => c.name).join(', ')}`,
    });
  }
  const cluster = config.clusters.find((c) => c.name === name);
  if (!cluster) {
    throw new LifeboatError('usage', `no cluster named "${name}" in ${config.configPath}`, {
      hint: `clusters: ${config.clusters.map((c) => c.name).join(', ')}`,
    });
  }
  return cluster;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value) && Object.getPrototypeOf(value) !== null) {
    if (Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype) {
      Object.freeze(value);
      for (const child of Object.values(value)) deepFreeze(child);
    }
  }
  return value;
}
