// Proves the real-service harness: a fresh PostgreSQL with scram-only TCP auth, the `lifeboat` role and
// replication connections; a private Redis; and both shared moto servers answering S3 and KMS calls.
import { CreateKeyCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MOTO_CREDENTIALS } from '../harness/moto.js';
import { startPostgres, type PostgresServer } from '../harness/postgres.js';
import { queryPostgres } from '../harness/postgres-query.js';
import { pingRedis, startRedis, type RedisServer } from '../harness/redis.js';
import { runProcess } from '../harness/run-process.js';

describe('postgres harness', () => {
  let server: PostgresServer;
  beforeAll(async () => {
    server = await startPostgres({ settings: { application_name: 'harness-test' } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('answers select version() as the superuser over TCP, with the harness settings', async () => {
    const [row] = await server.query<{ version: string }>('select version()');
    expect(row?.version).toMatch(/^PostgreSQL \d+/);
    expect(server.version).toBeGreaterThanOrEqual(13);
    const settings = await server.query<{ name: string; setting: string }>(
      `select name, setting from pg_settings where name in ('wal_level', 'fsync', 'track_commit_timestamp', 'listen_addresses', 'application_name')`,
    );
    expect(Object.fromEntries(settings.map((s) => [s.name, s.setting]))).toEqual({
      application_name: 'harness-test',
      fsync: 'on',
      listen_addresses: '127.0.0.1',
      track_commit_timestamp: 'on',
      wal_level: 'replica',
    });
  });

  it('lets lifeboat log in with its password and may run the backup-control functions', async () => {
    const config = { host: server.host, port: server.port, database: 'postgres', ...server.lifeboat };
    const [row] = await queryPostgres<{ user: string; super: boolean }>(config, 'select current_user as user, usesuper as super from pg_user where usename = current_user');
    expect(row).toEqual({ user: 'lifeboat', super: false });
    const [lsn] = await queryPostgres<{ lsn: string }>(config, 'select pg_switch_wal()::text as lsn');
    expect(lsn?.lsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    await queryPostgres(config, `select pg_create_restore_point('harness-test')`);
    await queryPostgres(config, 'checkpoint');
  });

  it('rejects a wrong password (scram is enforced, not trust)', async () => {
    const wrong = { host: server.host, port: server.port, database: 'postgres', user: 'lifeboat', password: 'wrong' };
    await expect(queryPostgres(wrong, 'select 1')).rejects.toThrow(/password authentication failed/);
    const wrongSuper = { ...wrong, user: 'postgres' };
    await expect(queryPostgres(wrongSuper, 'select 1')).rejects.toThrow(/password authentication failed/);
  });

  it('accepts a replication connection from lifeboat (pg, replication=database)', async () => {
    const client = new pg.Client({ connectionString: `${server.connectionUri('lifeboat')}?replication=database` });
    client.on('error', () => undefined);
    await client.connect();
    try {
      const result = await client.query<{ systemid: string; timeline: number }>('IDENTIFY_SYSTEM');
      expect(result.rows[0]?.systemid).toMatch(/^\d+$/);
      expect(Number(result.rows[0]?.timeline)).toBe(1);
    } finally {
      await client.end();
    }
  });

  it('accepts a physical replication connection through psql with a PGPASSFILE', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lifeboat-pgpass-'));
    try {
      const passFile = join(dir, 'pgpass');
      await writeFile(passFile, `127.0.0.1:${server.port}:*:lifeboat:${server.lifeboat.password}\n`, { mode: 0o600 });
      const psql = join(server.bindir, 'psql');
      const conninfo = `host=127.0.0.1 port=${server.port} user=lifeboat replication=true`;
      const { stdout } = await runProcess(existsSync(psql) ? psql : 'psql', [conninfo, '-At', '-c', 'IDENTIFY_SYSTEM'], {
        env: { ...process.env, PGPASSFILE: passFile, PGPASSWORD: '' },
      });
      expect(stdout).toMatch(/^\d+\|1\|[0-9A-F]+\/[0-9A-F]+\|/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('survives kill9() and comes back with start()', async () => {
    await server.query('create table crash_probe (id int)');
    await server.query('insert into crash_probe values (1)');
    await server.kill9();
    await expect(server.query('select 1')).rejects.toThrow();
    await server.start();
    expect(await readFile(server.logFile, 'utf8')).toMatch(/database system was interrupted|not properly shut down/);
    const [row] = await server.query<{ count: string }>('select count(*) from crash_probe');
    expect(row?.count).toBe('1');
  });

  it('restarts to apply a restart-only setting', async () => {
    await server.query(`alter system set max_wal_senders = 12`);
    await server.restart();
    const [row] = await server.query<{ max_wal_senders: string }>('show max_wal_senders');
    expect(row?.max_wal_senders).toBe('12');
  });
});

describe('redis harness', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('answers PING, and stops', async () => {
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(await pingRedis(redis.host, redis.port)).toBe(true);
    await redis.stop();
    expect(await pingRedis(redis.host, redis.port)).toBe(false);
  });
});

describe.each(['motoPrimary', 'motoReplica'] as const)('moto harness (%s)', (key) => {
  const moto = inject(key);
  const clientConfig = { endpoint: moto.endpoint, region: moto.region, credentials: MOTO_CREDENTIALS };

  it('creates and lists an S3 bucket', async () => {
    const s3 = new S3Client({ ...clientConfig, forcePathStyle: true });
    const bucket = `harness-${randomUUID()}`;
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        CreateBucketConfiguration: { LocationConstraint: moto.region as 'eu-central-1' | 'eu-west-1' },
      }),
    );
    const listed = await s3.send(new ListBucketsCommand({}));
    expect(listed.Buckets?.map((b) => b.Name)).toContain(bucket);
    s3.destroy();
  });

  it('creates a KMS key and generates a data key with it', async () => {
    const kms = new KMSClient(clientConfig);
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Description: 'harness test key' }));
    expect(KeyMetadata?.KeyId).toBeTruthy();
    const dataKey = await kms.send(new GenerateDataKeyCommand({ KeyId: KeyMetadata?.KeyId, KeySpec: 'AES_256' }));
    expect(dataKey.Plaintext?.length).toBe(32);
    expect(dataKey.CiphertextBlob?.length).toBeGreaterThan(32);
    kms.destroy();
  });

  it('is a different server per region', () => {
    expect(inject('motoPrimary').endpoint).not.toBe(inject('motoReplica').endpoint);
    expect(inject('motoPrimary').region).toBe('eu-central-1');
    expect(inject('motoReplica').region).toBe('eu-west-1');
  });
});
