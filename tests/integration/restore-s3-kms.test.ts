// Disaster recovery from S3 with KMS keys (moto): a backup and its WAL stored in a bucket, every data key wrapped
// by a KMS key; the source is then deleted, and a restore that knows only the bucket and the key brings back every
// commit that reached the repository. PostgreSQL's restore_command (`lifeboat wal fetch`, run as the PostgreSQL OS
// user) reads the bucket and asks KMS itself, with the credentials in the restore's 0600 fetch config: a sampler
// watches that file (0600, the PostgreSQL OS user's, during recovery; gone after promotion) and every process's
// command line (never a credential), and neither the CLI nor the restored server prints a Node-version warning.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client, type BucketLocationConstraint } from '@aws-sdk/client-s3';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../harness/free-port.js';
import { runCli } from '../harness/lifeboat-cli.js';
import { HISTORY_IDS_SQL, isPostmasterRunning, type RestoreRunner } from '../harness/restore-runner.js';
import { startRestoreSource, type RestoreSource } from '../harness/restore-source.js';
import { postgresOsUser } from '../harness/run-as-postgres.js';
import { ensureCliBuilt } from '../harness/wal-archiver-runner.js';

/** Moto accepts any credentials: random ones, so the sampler can recognise them anywhere. */
const CREDENTIALS = { accessKeyId: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(30).toString('base64') };

const moto = inject('motoPrimary');
const bucket = `lb-dr-${randomBytes(4).toString('hex')}`;
let source: RestoreSource;
let runner: RestoreRunner;
/** What the source held once its WAL was archived: the restore must hold exactly this. */
let sourceIds: number[];

beforeAll(async () => {
  ensureCliBuilt();
  const s3 = new S3Client({ region: moto.region, endpoint: moto.endpoint, forcePathStyle: true, credentials: CREDENTIALS });
  await s3.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: moto.region as BucketLocationConstraint } }));
  const key = await new KMSClient({ region: moto.region, endpoint: moto.endpoint, credentials: CREDENTIALS }).send(new CreateKeyCommand({}));
  // The config refers to the credentials, as a production config must; the fixture resolves them from here.
  process.env.LB_TEST_AWS_ACCESS_KEY_ID = CREDENTIALS.accessKeyId;
  process.env.LB_TEST_AWS_SECRET_ACCESS_KEY = CREDENTIALS.secretAccessKey;
  const credentials = { accessKeyId: { env: 'LB_TEST_AWS_ACCESS_KEY_ID' }, secretAccessKey: { env: 'LB_TEST_AWS_SECRET_ACCESS_KEY' } };
  source = await startRestoreSource({
    fixture: {
      overrides: {
        repository: { driver: 's3', bucket, region: moto.region, endpoint: moto.endpoint, forcePathStyle: true, prefix: 'prod/', credentials },
        encryption: { provider: 'aws-kms', keyId: key.KeyMetadata!.Arn!, region: moto.region, endpoint: moto.endpoint, credentials },
      },
    },
  });
  const { pg } = source;
  runner = source.restoreRunner();
  await source.fullBackup();
  await pg.query(`insert into pgbench_history (tid, bid, aid, delta, mtime) select 1, 1, g, g, now() from generate_series(1, 500) g`);
  await pg.query('select pg_switch_wal()');
  await pg.query(`insert into pgbench_history (tid, bid, aid, delta, mtime) select 1, 1, g, -g, now() from generate_series(1, 20) g`);
  sourceIds = await source.archiveAllAndStop();
  await pg.stop();
}, 240_000);

// source.stop() also stops every server the file restored.
afterAll(() => source?.stop());

describe('restore from S3 with KMS keys', () => {
  it('--latest, with the source gone, holds every commit whose WAL reached the bucket', async () => {
    const restored = await runner.restore({ name: 'latest', latest: true, start: true });
    try {
      expect(restored.result.reached?.state).toBe('promoted');
      expect(restored.result.plan.missing).toEqual([]);
      // The newest commits were only in the head segment: a partial upload carried them.
      expect(restored.result.plan.wal.at(-1)?.source).toBe('partial');
      expect(await runner.historyIds(restored)).toEqual(sourceIds);
      expect(sourceIds.length).toBe(520);
    } finally {
      await runner.stop(restored);
    }
  });
});

/** What the sampler saw of one restore's fetch config, and any credential on a command line. */
interface Sampled {
  /** Each sight of the fetch config: its mode, owner, and whether the restored server was running then. */
  fetchConfig: { mode: number; uid: number; serverRunning: boolean }[];
  leaks: string[];
}

/** Samples every 25 ms until stopped: the fetch config of `targetDir`'s restore, and every process's command line. */
function startSampler(targetDir: string): { stop(): Sampled } {
  const sampled: Sampled = { fetchConfig: [], leaks: [] };
  const fetchConfig = `${targetDir}.lifeboat-restore/wal-fetch.json`;
  const timer = setInterval(() => {
    try {
      const stat = statSync(fetchConfig);
      sampled.fetchConfig.push({ mode: stat.mode & 0o777, uid: stat.uid, serverRunning: isPostmasterRunning(targetDir) });
    } catch {
      // Not written yet, or removed at promotion.
    }
    for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
        if (cmdline.includes(CREDENTIALS.accessKeyId) || cmdline.includes(CREDENTIALS.secretAccessKey)) sampled.leaks.push(`a credential in the command line of ${pid}: ${cmdline.slice(0, 60)}`);
      } catch {
        // The process ended between listing and reading.
      }
    }
  }, 25);
  return {
    stop: () => {
      clearInterval(timer);
      return sampled;
    },
  };
}

describe('restore from S3 with KMS keys through the CLI, sampled', () => {
  it('keeps the credentials in a 0600 fetch config only while recovering, and prints no Node-version warning', async () => {
    const targetDir = join(source.fixture.dir, 'restores', 'cli');
    const port = await freePort();
    runner.track(targetDir);
    // Prefetching off: every segment goes through `lifeboat wal fetch` on S3, the path a prefetch miss takes.
    const configPath = join(source.fixture.dir, 'no-prefetch.yaml');
    writeFileSync(configPath, JSON.stringify({ ...JSON.parse(readFileSync(source.fixture.configPath, 'utf8')), restore: { prefetchWindowMiB: 0 } }), { mode: 0o600 });
    const sampler = startSampler(targetDir);
    const { code, stdout, stderr } = await runCli(['restore', '--target-dir', targetDir, '--latest', '--start', '--port', String(port), '--json'], {
      configPath,
      env: { ...source.fixture.env, LIFEBOAT_LOG_LEVEL: 'info' },
    });
    const sampled = sampler.stop();
    try {
      expect(code, stderr).toBe(0);
      const summary = JSON.parse(stdout) as { reached: { state: string }; server: { logFile: string } };
      expect(summary.reached.state).toBe('promoted');
      expect((await runner.query<{ id: string }>({ port }, HISTORY_IDS_SQL)).map((row) => Number(row.id))).toEqual(sourceIds);

      // During recovery the fetch config existed, always 0600 and the PostgreSQL OS user's; after promotion it is gone.
      expect(sampled.fetchConfig.filter((sight) => sight.serverRunning).length).toBeGreaterThan(0);
      for (const sight of sampled.fetchConfig) expect(sight.mode.toString(8)).toBe('600');
      const owner = postgresOsUser();
      if (owner) for (const sight of sampled.fetchConfig) expect(sight.uid).toBe(owner.uid);
      expect(existsSync(`${targetDir}.lifeboat-restore/wal-fetch.json`)).toBe(false);
      expect(sampled.leaks).toEqual([]);

      // The restore_command ran (its lines are in the server log) on Node 24: no SDK warning there or from the CLI.
      const serverLog = readFileSync(summary.server.logFile, 'utf8');
      expect(serverLog).toMatch(/restored log file "[0-9A-F]{24}" from archive/);
      // ... and it read the bucket itself, loading the SDK (the end of the archive was answered from the listing the
      // restore keeps, see mark-absent-wal.ts).
      expect(serverLog).toMatch(/served [0-9A-F]{24} from the repository/);
      expect((JSON.parse(stdout) as { walServed: { answeredAbsent: number } }).walServed.answeredAbsent).toBeGreaterThan(0);
      for (const output of [serverLog, stderr]) {
        expect(output).not.toContain('NodeVersionSupportWarning');
        expect(output).not.toContain(CREDENTIALS.secretAccessKey);
      }
    } finally {
      await runner.stop(targetDir);
    }
  });
});
