// The CLI end to end on S3 + KMS (moto) with every secret given by reference, while a sampler reads every
// process's command line: no configured secret may appear in any log line, error message, command line, or in
// the environment of the PostgreSQL tools Lifeboat starts.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLifeboatFixture, pgbench, type LifeboatFixture } from '../harness/lifeboat-fixture.js';
import { startPostgres, type PostgresServer } from '../harness/postgres.js';

const CLI = join(process.cwd(), 'bin', 'lifeboat.js');
const secrets = {
  password: '',
  accessKeyId: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`,
  secretAccessKey: randomBytes(30).toString('base64'),
};
let pg: PostgresServer;
let fixture: LifeboatFixture;
let configPath: string;
let env: NodeJS.ProcessEnv;
const outputs: string[] = [];
const leaks: string[] = [];
let sampler: NodeJS.Timeout | undefined;

function secretIn(text: string): string | undefined {
  return Object.entries(secrets).find(([, value]) => value !== '' && text.includes(value))?.[0];
}

/** Read every process's command line (and the environment of PostgreSQL tools) looking for a secret. */
function sampleProcesses(): void {
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const inCmdline = secretIn(cmdline);
      if (inCmdline) leaks.push(`${inCmdline} in cmdline of ${pid}: ${cmdline.slice(0, 80)}`);
      if (/pg_basebackup|pg_receivewal|psql/.test(cmdline)) {
        const inEnv = secretIn(readFileSync(`/proc/${pid}/environ`, 'utf8'));
        if (inEnv) leaks.push(`${inEnv} in environment of ${cmdline.slice(0, 60)}`);
      }
    } catch {
      // The process ended between listing and reading.
    }
  }
}

interface CliRun {
  code: number | null;
  stdout: string;
  /** stdout and stderr (logs, errors) together. */
  output: string;
}

function lifeboat(args: string[]): { done: Promise<CliRun>; stop(): void } {
  const child = spawn(process.execPath, [CLI, '--config', configPath, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => ((stdout += chunk), (output += chunk)));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const done = new Promise<CliRun>((resolve) =>
    child.once('close', (code) => {
      outputs.push(output);
      resolve({ code, stdout, output });
    }),
  );
  return { done, stop: () => child.kill('SIGTERM') };
}

beforeAll(async () => {
  const moto = inject('motoPrimary');
  pg = await startPostgres();
  secrets.password = pg.lifeboat.password;
  const credentials = { accessKeyId: secrets.accessKeyId, secretAccessKey: secrets.secretAccessKey };
  const bucket = `lb-secrets-${randomBytes(4).toString('hex')}`;
  await new S3Client({ region: moto.region, endpoint: moto.endpoint, forcePathStyle: true, credentials }).send(
    new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: moto.region as 'eu-central-1' } }),
  );
  const key = await new KMSClient({ region: moto.region, endpoint: moto.endpoint, credentials }).send(new CreateKeyCommand({ Description: 'lifeboat secrets test' }));
  const awsCredentials = { accessKeyId: { env: 'LB_AWS_KEY_ID' }, secretAccessKey: { env: 'LB_AWS_SECRET' } };
  // The fixture gives the temp folder and the test-friendly wal/backup settings; the config file is written below.
  fixture = createLifeboatFixture(pg);
  configPath = join(fixture.dir, 'lifeboat.yaml');
  const cluster = fixture.config.clusters[0]!;
  writeFileSync(
    configPath,
    JSON.stringify({
      clusters: [{ name: 'main', postgres: { host: pg.host, port: pg.port, user: pg.lifeboat.user, password: { env: 'LB_PGPASSWORD' }, sslmode: 'disable', bindir: pg.bindir }, wal: cluster.wal, backup: cluster.backup }],
      repository: { driver: 's3', bucket, region: moto.region, endpoint: moto.endpoint, forcePathStyle: true, prefix: 'prod/', credentials: awsCredentials, partSizeMiB: 5 },
      encryption: { provider: 'aws-kms', keyId: key.KeyMetadata!.Arn!, region: moto.region, endpoint: moto.endpoint, credentials: awsCredentials },
      stateDir: './state',
      log: { level: 'debug' },
    }),
  );
  env = { ...process.env, LB_PGPASSWORD: secrets.password, LB_AWS_KEY_ID: secrets.accessKeyId, LB_AWS_SECRET: secrets.secretAccessKey, LIFEBOAT_LOG_LEVEL: 'debug' };
  await pgbench(pg, ['-i', '-s', '2', '-q']);
  sampler = setInterval(sampleProcesses, 25);
}, 180_000);

afterAll(async () => {
  if (sampler) clearInterval(sampler);
  await pg?.stop();
  fixture?.cleanup();
});

describe('secrets stay secret', () => {
  it('check, archive, backup, list and verify on S3 + KMS succeed without a secret in any output, command line or tool environment', async () => {
    const check = await lifeboat(['check']).done;
    expect(check.output).toContain('all checks passed');
    expect(check.code).toBe(0);
    const archiver = lifeboat(['wal', 'archive']);
    const backup = await lifeboat(['backup', 'full', '--json']).done;
    expect(backup.code, backup.output).toBe(0);
    const manifest = JSON.parse(backup.stdout) as { type: string; cluster: string; backupId: string; parts: { storedSizeBytes: number }[]; tarSizeBytes: number };
    expect(manifest).toMatchObject({ type: 'full', cluster: 'main' });
    expect(manifest.parts.length).toBeGreaterThanOrEqual(1);
    expect(manifest.tarSizeBytes).toBeGreaterThan(0);
    await pg.query('select pg_switch_wal()');
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const increment = await lifeboat(['backup', 'incremental', '--json']).done;
    expect(increment.code, increment.output).toBe(0);
    const sealed = JSON.parse(increment.stdout) as { backupId: string; fullBackupId: string; segments: unknown[] };
    expect(sealed.fullBackupId).toBe(manifest.backupId);
    expect(sealed.segments.length).toBeGreaterThanOrEqual(1);
    const list = await lifeboat(['backups', 'list', '--json']).done;
    expect(list.code, list.output).toBe(0);
    const catalog = JSON.parse(list.stdout) as { clusters: { backups: { backupId: string }[]; window?: unknown }[] };
    expect(catalog.clusters[0]!.backups.map((b) => b.backupId)).toEqual([manifest.backupId, sealed.backupId]);
    expect(catalog.clusters[0]!.window).toBeDefined();
    const verify = await lifeboat(['verify', '--json']).done;
    expect(verify.code, verify.output).toBe(0);
    const [report] = (JSON.parse(verify.stdout) as { reports: { ok: boolean; problems: unknown[]; backupsChecked: string[]; objectsChecked: number; walSegmentsChecked: number }[] }).reports;
    expect(report).toMatchObject({ ok: true, problems: [], backupsChecked: [manifest.backupId, sealed.backupId] });
    expect(report!.walSegmentsChecked).toBeGreaterThanOrEqual(sealed.segments.length);
    expect(report!.objectsChecked).toBe(manifest.parts.length + report!.walSegmentsChecked);
    archiver.stop();
    const archived = await archiver.done;
    expect(archived.code, archived.output).toBe(0);
    // What the archiver logged as archived is exactly what the repository lists.
    const logged = new Set(
      archived.output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { msg?: string; segment?: string })
        .filter((line) => line.msg === 'WAL segment archived')
        .map((line) => line.segment),
    );
    expect(logged.size).toBeGreaterThanOrEqual(sealed.segments.length);
    const after = await lifeboat(['backups', 'list', '--json']).done;
    expect((JSON.parse(after.stdout) as { clusters: { archivedSegments: number }[] }).clusters[0]!.archivedSegments).toBe(logged.size);
    // Debug logs were on: the run logged plenty, just never a secret.
    expect(outputs.join('').length).toBeGreaterThan(1000);
    for (const output of outputs) expect(secretIn(output), output.slice(0, 400)).toBeUndefined();
    expect(leaks).toEqual([]);
  }, 240_000);

  it('an authentication error names the problem without the (wrong) password', async () => {
    env = { ...env, LB_PGPASSWORD: `${secrets.password}x` };
    secrets.password = env.LB_PGPASSWORD!;
    const wrongPassword = await lifeboat(['check']).done;
    expect(wrongPassword.code, wrongPassword.output).toBe(80);
    expect(wrongPassword.output).toContain('password authentication failed');
    expect(secretIn(wrongPassword.output)).toBeUndefined();
    expect(leaks).toEqual([]);
  }, 60_000);
});
