// The exit codes README's error catalog promises, each asserted through the real CLI process with the error line
// it prints: 65 config, 66 secret, 70 storage unreachable, 73 corrupted object, 75 wrong key, 80 PostgreSQL
// refused, 90 interrupted. The repository holds a backup on timeline 1 and WAL past a timeline switch, so verify
// is also shown to follow the history onto timeline 2 and to read the partial a --latest restore would replay.
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalKeyProvider } from '../../src/crypto/index.js';
import type { FullBackupManifest } from '../../src/repository/backup-manifest.js';
import { listArchivedWal } from '../../src/repository/list-archived-wal.js';
import type { VerifyReport } from '../../src/verify/run-verify.js';
import { freePort } from '../harness/free-port.js';
import { pgbench } from '../harness/lifeboat-fixture.js';
import { runCli, startCli, type CliResult } from '../harness/lifeboat-cli.js';
import { currentTimeline, promoteToNextTimeline } from '../harness/promote-timeline.js';
import { repositoryPath, startRestoreSource, type RestoreSource } from '../harness/restore-source.js';
import { waitFor } from '../harness/wait-for.js';
import { ensureCliBuilt } from '../harness/wal-archiver-runner.js';

let source: RestoreSource;
let backup: FullBackupManifest;
/** The fixture's config: the password reference resolves from `env`. */
let configPath: string;
let env: NodeJS.ProcessEnv;

function expectExit(result: CliResult, code: number): void {
  expect(result.code, `exit ${result.code} (signal ${result.signal})\nstdout: ${result.stdout.slice(0, 2000)}\nstderr: ${result.stderr.slice(-3000)}`).toBe(code);
}

/** The fixture's config file with `change` applied to its JSON, written next to it as `<name>.yaml`. */
function variantConfig(name: string, change: (config: Record<string, unknown>) => Record<string, unknown>): string {
  const path = join(source.fixture.dir, `${name}.yaml`);
  const config = JSON.parse(readFileSync(source.fixture.configPath, 'utf8')) as Record<string, unknown>;
  writeFileSync(path, JSON.stringify(change({ ...config, repository: { driver: 'fs', path: repositoryPath(source.fixture) }, encryption: { provider: 'local', keyFile: join(source.fixture.dir, 'keys', 'lifeboat.key') }, stateDir: join(source.fixture.dir, 'state') }), null, 2), { mode: 0o600 });
  return path;
}

/** An S3 repository at `endpoint` (nothing real behind it), keyed with the fixture's local key. */
function s3Config(name: string, endpoint: string): string {
  return variantConfig(name, (config) => ({
    ...config,
    repository: { driver: 's3', bucket: 'unreachable', region: 'eu-central-1', endpoint, forcePathStyle: true, credentials: { accessKeyId: { env: 'EXIT_AWS_ID' }, secretAccessKey: { env: 'EXIT_AWS_SECRET' } } },
  }));
}

const s3Env = { EXIT_AWS_ID: 'AKIAEXITCODES', EXIT_AWS_SECRET: 'exit-codes-not-a-secret', LIFEBOAT_LOG_LEVEL: 'warn' };

beforeAll(async () => {
  ensureCliBuilt();
  source = await startRestoreSource();
  configPath = source.fixture.configPath;
  env = { FIXTURE_PGPASSWORD: source.pg.lifeboat.password, LIFEBOAT_LOG_LEVEL: 'info' };
  backup = await source.fullBackup();
  await pgbench(source.pg, ['-c', '1', '-t', '50', '-n']);
  // A timeline switch while the archiver runs (recovery.signal needs the local runtime's data directory).
  if (source.pg.runtime === 'local') {
    await promoteToNextTimeline(source.pg, 2);
    await pgbench(source.pg, ['-c', '1', '-t', '50', '-n']);
    await source.pg.query('select pg_switch_wal()');
    await pgbench(source.pg, ['-c', '1', '-t', '20', '-n']);
  }
  // Stopping ships the head segment as a partial: the repository ends with one.
  await source.archiveAllAndStop();
}, 300_000);

afterAll(async () => {
  await source?.stop();
});

describe('verify', () => {
  it('passes after a timeline switch, reading the WAL of both timelines and the last partial', async (context) => {
    if (source.pg.runtime !== 'local') context.skip();
    expect(await currentTimeline(source.pg)).toBe(2);
    const result = await runCli(['verify', '--json'], { configPath, env });
    expectExit(result, 0);
    const [report] = (JSON.parse(result.stdout) as { reports: VerifyReport[] }).reports;
    expect(report).toMatchObject({ cluster: 'main', ok: true, problems: [], missingWalSegments: [], backupsChecked: [backup.backupId] });
    const wal = await listArchivedWal(source.repository.storage, 'main');
    const onTimeline2 = [...wal.segments.keys()].filter((segment) => segment.startsWith('00000002'));
    const fromBackupOnTimeline1 = [...wal.segments.keys()].filter((segment) => segment.startsWith('00000001') && segment >= backup.startSegment);
    expect(onTimeline2.length).toBeGreaterThan(0);
    // Every timeline-2 segment and the partial after them were read; timeline 1's copies past the switch are not needed.
    expect(report!.walSegmentsChecked).toBeGreaterThanOrEqual(onTimeline2.length + 1);
    expect(report!.walSegmentsChecked).toBeLessThanOrEqual(onTimeline2.length + fromBackupOnTimeline1.length + 1);
    expect(report!.objectsChecked).toBe(report!.walSegmentsChecked + backup.parts.length);
  });

  it('exits 73 naming a corrupted partial, in its report and in its JSON error line (the key unredacted)', async () => {
    const wal = await listArchivedWal(source.repository.storage, 'main');
    const newestSegment = [...wal.partials.keys()].sort().at(-1)!;
    const partial = wal.partials.get(newestSegment)!.at(-1)!;
    const path = join(repositoryPath(source.fixture), partial.key);
    const original = readFileSync(path);
    const damaged = Buffer.from(original);
    const middle = Math.floor(damaged.length / 2);
    damaged[middle] = damaged[middle]! ^ 0x01;
    writeFileSync(path, damaged);
    try {
      const result = await runCli(['verify', '--json'], { configPath, env });
      expectExit(result, 73);
      const [report] = (JSON.parse(result.stdout) as { reports: VerifyReport[] }).reports;
      expect(report!.problems).toEqual([expect.objectContaining({ code: 'objectCorrupted', subject: partial.key })]);
      expect(result.stderr).toContain('error[objectCorrupted]: verification found 1 problem(s)');
      const line = result.stderr.split('\n').find((text) => text.includes('object failed verification'));
      expect(JSON.parse(line!)).toMatchObject({ key: partial.key, code: 'objectCorrupted' });
    } finally {
      writeFileSync(path, original);
    }
  });
});

describe('exit codes through the CLI', () => {
  it('65: an invalid config file', async () => {
    const path = variantConfig('typo', (config) => ({ ...config, stateDri: './state' }));
    const result = await runCli(['backups', 'list'], { configPath: path, env });
    expectExit(result, 65);
    expect(result.stderr).toMatch(/^error\[config\]: invalid configuration in .*typo\.yaml/m);
    expect(result.stderr).toContain('stateDri: unknown key "stateDri"; did you mean "stateDir"?');
  });

  it('66: a secret the command needs is not set', async () => {
    const result = await runCli(['backup', 'full'], { configPath, env: { LIFEBOAT_LOG_LEVEL: 'warn' } });
    expectExit(result, 66);
    expect(result.stderr).toContain('error[secret]: clusters[0].postgres.password: environment variable FIXTURE_PGPASSWORD is not set');
  });

  it('70: the repository cannot be reached', async () => {
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    const result = await runCli(['backups', 'list'], { configPath: s3Config('s3-closed', endpoint), env: s3Env });
    expectExit(result, 70);
    expect(result.stderr).toMatch(/^error\[storageUnavailable\]: /m);
    expect(result.stderr).toContain('HINT: ');
  });

  it('75: the key cannot decrypt the repository', async () => {
    const otherKey = join(source.fixture.dir, 'keys', 'other.key');
    (await createLocalKeyProvider({ path: otherKey, createIfMissing: true })).close();
    const path = variantConfig('other-key', (config) => ({ ...config, encryption: { provider: 'local', keyFile: otherKey } }));
    const result = await runCli(['verify'], { configPath: path, env });
    expectExit(result, 75);
    expect(result.stderr).toMatch(/^error\[wrongKey\]: /m);
  });

  it('80: PostgreSQL refuses a wrong password', async () => {
    const result = await runCli(['backup', 'full'], { configPath, env: { ...env, FIXTURE_PGPASSWORD: `${source.pg.lifeboat.password}-wrong` } });
    expectExit(result, 80);
    expect(result.stderr).toMatch(/^error\[postgresUnavailable\]: .*password authentication failed/m);
    expect(result.stderr).not.toContain(`${source.pg.lifeboat.password}-wrong`);
  });

  it('90: SIGINT while a command waits on the repository', async () => {
    // An S3 endpoint that accepts connections and never answers: the command is provably mid-request when signalled.
    const sockets = new Set<Socket>();
    const server: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const cli = startCli(['backups', 'list'], { configPath: s3Config('s3-hanging', `http://127.0.0.1:${port}`), env: s3Env, timeoutMs: 60_000 });
      await waitFor('the CLI to send its first S3 request', () => sockets.size > 0, { timeoutMs: 30_000, intervalMs: 50 });
      cli.child.kill('SIGINT');
      const result = await cli.done;
      expectExit(result, 90);
      expect(result.stderr).toMatch(/^error\[aborted\]: /m);
      expect(result.stderr).not.toContain('this is a bug');
    } finally {
      for (const socket of sockets) socket.destroy();
      server.close();
    }
  });
});
