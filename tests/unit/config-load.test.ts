// Config validation: every error names the field and the fix; secrets only as references; example files parse.
import { mkdtempSync, readdirSync, writeFileSync, chmodSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSecrets, loadConfig, readConfigFile, formatConfigReference, REFERENCE_START, REFERENCE_END, Secret, selectCluster } from '../../src/config/index.js';
import { isLifeboatError } from '../../src/errors/index.js';

function writeConfig(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-config-'));
  const path = join(dir, 'lifeboat.yaml');
  writeFileSync(path, text);
  return path;
}

const VALID = `
clusters:
  - name: main
    postgres: { host: 127.0.0.1, port: 5432, user: lifeboat, dbname: postgres, password: { env: MAIN_PGPASSWORD } }
repository: { driver: fs, path: ./var/repo }
encryption: { provider: local, keyFile: ./var/keys/lifeboat.key }
`;

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (isLifeboatError(error)) return `${error.code}: ${error.message}\nHINT: ${error.hint ?? ''}`;
    throw error;
  }
  throw new Error('expected a LifeboatError');
}

describe('config loading', () => {
  it('accepts the documented shape, fills defaults, anchors paths at the config folder', () => {
    const path = writeConfig(VALID);
    const config = loadConfig(path, { MAIN_PGPASSWORD: 'correct horse' });
    expect(config.compression).toEqual({ algorithm: 'zstd', level: 3 });
    expect(config.repository).toEqual({ driver: 'fs', path: join(path, '..', 'var/repo') });
    const password = config.clusters[0]!.postgres.password;
    expect(password).toBeInstanceOf(Secret);
    expect(password?.reveal()).toBe('correct horse');
    expect(JSON.stringify(config)).not.toContain('correct horse');
    expect(Object.isFrozen(config.clusters[0]!.postgres)).toBe(true);
  });

  it('refuses a literal password, naming the field and the reference form', () => {
    const path = writeConfig(VALID.replace('{ env: MAIN_PGPASSWORD }', '"hunter2"'));
    const message = configError(() => readConfigFile(path));
    expect(message).toMatch(/^config: /);
    expect(message).toContain('clusters[0].postgres.password');
    expect(message).toContain('{ env: NAME }');
    expect(message).not.toContain('hunter2');
  });

  it('refuses a typo\'d key, naming it and suggesting the right one', () => {
    const path = writeConfig(VALID.replace('host: 127.0.0.1', 'hots: 127.0.0.1'));
    const message = configError(() => readConfigFile(path));
    expect(message).toContain('clusters[0].postgres.hots: unknown key "hots"; did you mean "host"?');
  });

  it('names an unknown repository driver and lists the valid ones', () => {
    const path = writeConfig(VALID.replace('driver: fs', 'driver: gcs'));
    expect(configError(() => readConfigFile(path))).toContain('repository.driver: must be one of "fs", "s3"');
  });

  it('refuses duplicate cluster names and bad cluster names', () => {
    const dup = writeConfig(`${VALID}`.replace('clusters:\n', 'clusters:\n  - { name: main, postgres: { user: x } }\n'));
    expect(configError(() => readConfigFile(dup))).toContain('duplicate cluster name "main"');
    const bad = writeConfig(VALID.replace('name: main', 'name: Main/1'));
    expect(configError(() => readConfigFile(bad))).toContain('clusters[0].name');
  });

  it('reports invalid YAML and a missing file with a hint', () => {
    expect(configError(() => readConfigFile(writeConfig('clusters: [')))).toContain('not valid YAML');
    expect(configError(() => readConfigFile('/nonexistent/lifeboat.yaml'))).toContain('HINT: pass --config FILE');
  });

  it('names an unset environment variable and how to set it, where the secret is used and in config check', () => {
    const config = loadConfig(writeConfig(VALID), {});
    for (const message of [configError(() => config.clusters[0]!.postgres.password?.reveal()), configError(() => checkSecrets(config))]) {
      expect(message).toContain('secret: clusters[0].postgres.password: environment variable MAIN_PGPASSWORD is not set');
      expect(message).toContain('export MAIN_PGPASSWORD=');
    }
  });

  it('resolves only the secrets a command uses: a missing database password does not stop the repository\'s', () => {
    const path = writeConfig(`${VALID.replace(/repository: .*\n/, '')}repository:
  driver: s3
  bucket: dr-bucket
  region: eu-central-1
  credentials: { accessKeyId: { env: LB_KEY_ID }, secretAccessKey: { env: LB_SECRET } }
`);
    const config = loadConfig(path, { LB_KEY_ID: 'AKIAEXAMPLE', LB_SECRET: 'dr-secret-value' });
    const repository = config.repository;
    if (repository.driver !== 's3') throw new Error('expected the s3 repository');
    expect(repository.credentials?.secretAccessKey.reveal()).toBe('dr-secret-value');
    expect(configError(() => config.clusters[0]!.postgres.password?.reveal())).toContain('MAIN_PGPASSWORD is not set');
    expect(Object.isFrozen(config.clusters[0]!.postgres)).toBe(true);
  });

  it('config check names every secret that cannot be resolved', () => {
    const path = writeConfig(VALID.replace('encryption: { provider: local, keyFile: ./var/keys/lifeboat.key }', 'encryption: { provider: aws-kms, keyId: alias/x, region: eu-central-1, credentials: { accessKeyId: { env: KMS_ID }, secretAccessKey: { file: missing.secret } } }'));
    const message = configError(() => checkSecrets(loadConfig(path, {})));
    expect(message).toMatch(/^secret: 3 secret references cannot be resolved/);
    expect(message).toContain('clusters[0].postgres.password: environment variable MAIN_PGPASSWORD is not set');
    expect(message).toContain('encryption.credentials.accessKeyId: environment variable KMS_ID is not set');
    expect(message).toContain('encryption.credentials.secretAccessKey: cannot read secret file');
  });

  it('accepts a restore-only config (repository and key, no clusters); commands that need a cluster say so', () => {
    const path = writeConfig('repository: { driver: fs, path: ./var/repo }\nencryption: { provider: local, keyFile: ./var/keys/lifeboat.key }\n');
    const config = loadConfig(path, {});
    expect(config.clusters).toEqual([]);
    expect(() => checkSecrets(config)).not.toThrow();
    const message = configError(() => selectCluster(config, undefined));
    expect(message).toMatch(/^config: .*configures no cluster, and this command works on one/);
    expect(message).toContain('HINT: add the cluster under clusters:');
    expect(configError(() => selectCluster(config, 'main'))).toContain('configures no cluster (asked for "main")');
  });

  it('reads file secrets, refusing group/other-readable files', () => {
    const path = writeConfig(VALID.replace('{ env: MAIN_PGPASSWORD }', '{ file: pgpass.secret }'));
    const secretPath = join(path, '..', 'pgpass.secret');
    writeFileSync(secretPath, 's3cret-from-file\n', { mode: 0o644 });
    chmodSync(secretPath, 0o644);
    expect(configError(() => loadConfig(path, {}).clusters[0]!.postgres.password?.reveal())).toContain('readable by group or others');
    chmodSync(secretPath, 0o600);
    expect(loadConfig(path, {}).clusters[0]!.postgres.password?.reveal()).toBe('s3cret-from-file');
  });

  it('parses every example file shipped in config/', () => {
    const files = readdirSync('config').filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const file of files) expect(() => readConfigFile(join('config', file)), file).not.toThrow();
  });

  it('README configuration reference matches the schema (run `npm run docs` to regenerate)', () => {
    const readme = readFileSync('README.md', 'utf8');
    const start = readme.indexOf(REFERENCE_START);
    const end = readme.indexOf(REFERENCE_END);
    expect(start).toBeGreaterThan(-1);
    expect(readme.slice(start + REFERENCE_START.length, end).trim()).toBe(formatConfigReference().trim());
  });
});
