// Restore drills against a real PostgreSQL under pgbench load with the archiver running: the latest scenario
// passes with RPO within the partial upload interval + heartbeat interval + 5 s and RTO phases that add up; a 1 s
// RTO target fails exactly the RTO target; a point-in-time drill at a random instant stops exactly there; an
// object altered on the way fails the drill naming it; a restored logical replication subscription never
// connects to its publisher; and no scratch server or folder is left behind by any of them.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuntimeCluster } from '../../src/config/index.js';
import type { DrillResult } from '../../src/drills/drill-result.js';
import { LATEST_SCENARIO, parseDrillScenario, type DrillScenario } from '../../src/drills/drill-scenario.js';
import { ensureHeartbeatTable } from '../../src/drills/heartbeat/heartbeat-table.js';
import { writeHeartbeat } from '../../src/drills/heartbeat/write-heartbeat.js';
import { runDrill } from '../../src/drills/run-drill.js';
import { connectPostgres, type PgClient } from '../../src/postgres/index.js';
import { isLifeboatError } from '../../src/errors/index.js';
import { pgbench } from '../harness/lifeboat-fixture.js';
import { ensureJunitparser, readJunitFiles } from '../harness/junit-reader.js';
import { runLifeboatCli } from '../harness/lifeboat-cli.js';
import { runProcess } from '../harness/run-process.js';
import { startRestoreSource, type RestoreSource } from '../harness/restore-source.js';

const HEARTBEAT_SECONDS = 1;
let source: RestoreSource;
let heartbeat: NodeJS.Timeout | undefined;
let heartbeatClient: PgClient | undefined;
let grantLoop: NodeJS.Timeout | undefined;
let publisher: Server;
const publisherSockets = new Set<Socket>();
let publisherConnections = 0;

function drillsLeft(): string[] {
  return readdirSync(tmpdir()).filter((name) => name.startsWith('lifeboat-drill-'));
}

async function drill(scenario: DrillScenario, cluster: RuntimeCluster = source.cluster): Promise<DrillResult> {
  return runDrill({ config: source.fixture.config, cluster, scenario, storage: source.repository.storage, keys: source.repository.keys, log: source.log, signal: AbortSignal.timeout(300_000), lifeboatVersion: 'test' });
}

beforeAll(async () => {
  source = await startRestoreSource({ fixture: { cluster: { drill: { heartbeatSeconds: HEARTBEAT_SECONDS, targets: { rpoSeconds: 60, rtoSeconds: 600 } } } } });
  // The heartbeat as the daemon writes it: the table made and written by the cluster's own (least-privilege) role.
  heartbeatClient = await connectPostgres(source.cluster.postgres, 'lifeboat heartbeat');
  await ensureHeartbeatTable(heartbeatClient, source.cluster.postgres.user, source.cluster.postgres.dbname);
  heartbeat = setInterval(() => void writeHeartbeat(heartbeatClient!).catch(() => undefined), HEARTBEAT_SECONDS * 1000);
  // A publisher that accepts and never answers: an apply worker that connects hangs there, so every connection
  // after the source's own worker's one would be the drill's scratch server reaching out.
  publisher = createServer((socket) => {
    publisherConnections += 1;
    publisherSockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => publisher.listen(0, '127.0.0.1', resolve));
  const port = (publisher.address() as { port: number }).port;
  await source.pg.query(`create subscription drill_sub connection 'host=127.0.0.1 port=${port} dbname=postgres connect_timeout=0' publication p with (connect = false)`);
  await source.pg.query(`alter subscription drill_sub set (slot_name = 'drill_sub')`);
  await source.pg.query('alter subscription drill_sub enable');
  await source.fullBackup();
  await pgbench(source.pg, ['-c', '2', '-T', '8', '-n']);
  await source.waitArchived();
  // The archiver keeps running (a drill runs beside it), as root here, writing 0600 objects; restore_command runs
  // as the postgres OS user. In production both are the same user; here a loop lets the new objects be read.
  await source.grantRepositoryRead();
  grantLoop = setInterval(() => void source.grantRepositoryRead().catch(() => undefined), 250);
}, 300_000);

afterAll(async () => {
  if (heartbeat) clearInterval(heartbeat);
  await heartbeatClient?.end().catch(() => undefined);
  if (grantLoop) clearInterval(grantLoop);
  for (const socket of publisherSockets) socket.destroy();
  await new Promise<void>((resolve) => (publisher ? publisher.close(() => resolve()) : resolve()));
  await source?.stop();
});

describe('drill run', () => {
  it('latest: passes with RPO within the upload + heartbeat intervals + 5 s, phases adding up to RTO, every check passed', async () => {
    // The source's own apply worker reached the publisher (and hangs there): the fake publisher does see workers.
    const connectionsBefore = publisherConnections;
    expect(connectionsBefore).toBeGreaterThanOrEqual(1);
    const before = drillsLeft();
    const result = await drill(LATEST_SCENARIO);
    expect(result.error).toBeUndefined();
    expect(result.checks.filter((c) => c.outcome !== 'passed')).toEqual([]);
    expect(result.outcome).toBe('passed');
    expect(result.rpo.method).toBe('heartbeat');
    expect(result.rpo.heartbeatsLost).toBeLessThanOrEqual(5 + HEARTBEAT_SECONDS + 5);
    expect(result.rpo.seconds).toBeLessThanOrEqual(5 + HEARTBEAT_SECONDS + 5);
    const phases = Object.values(result.rto.phases).reduce((a, b) => a + b, 0);
    expect(Math.abs(phases - result.rto.seconds!)).toBeLessThan(0.01);
    expect(result.checks.map((c) => c.name)).toEqual(expect.arrayContaining(['isolation', 'extensions:postgres', 'tables:postgres', 'amcheck:postgres']));
    expect(result.checks.find((c) => c.name === 'isolation')!.message).toContain('drill_sub');
    // The restored subscription never reached its publisher.
    expect(publisherConnections).toBe(connectionsBefore);
    expect(drillsLeft()).toEqual(before);
  }, 300_000);

  // 10 ms: no restore meets it (starting PostgreSQL alone takes longer); a small restore now meets 1 s.
  it('a 10 ms RTO target fails the RTO target and nothing else', async () => {
    const result = await drill(LATEST_SCENARIO, { ...source.cluster, drill: { ...source.cluster.drill, targets: { rpoSeconds: 60, rtoSeconds: 0.01 } } });
    expect(result.outcome).toBe('failed');
    expect([...result.targets, ...result.checks].filter((c) => c.outcome === 'failed').map((c) => c.name)).toEqual(['rto']);
  }, 300_000);

  it('pitr-random: stops exactly at a random instant inside the window', async () => {
    const result = await drill(parseDrillScenario({ name: 'pitr-random', target: 'random-time', checks: { amcheck: { enabled: false } } }, 'test'));
    expect(result.restoreTarget.kind).toBe('time');
    const stop = result.checks.find((c) => c.name === 'pitr-stop');
    expect(stop?.outcome, stop?.message).toBe('passed');
    expect(result.outcome).toBe('passed');
  }, 300_000);

  it('corrupt-object: fails naming the altered object, and leaves no scratch server', async () => {
    const before = drillsLeft();
    const error = await drill(parseDrillScenario({ name: 'corrupt-object', corrupt: { object: 'base-part' } }, 'test')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isLifeboatError(error, 'objectCorrupted')).toBe(true);
    expect((error as Error).message).toMatch(/backups\/.+\/part/);
    expect(drillsLeft()).toEqual(before);
    const scratchProcesses = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((line) => line.includes('lifeboat-drill-'));
    expect(scratchProcesses).toEqual([]);
  }, 300_000);

  it('CI script: writes JUnit (read by junitparser), JSON and Markdown, stores the result for `drill history`, exits 1 on a missed target', async () => {
    ensureJunitparser();
    const dir = source.fixture.dir;
    const tight = join(dir, 'tight.yaml');
    writeFileSync(tight, 'name: tight-rto\ntarget: latest\nchecks:\n  amcheck:\n    enabled: false\n');
    // Through the CI script, as a CI job runs it.
    const reports = join(dir, 'reports');
    const run = await runProcess('sh', [join(process.cwd(), 'drills', 'ci', 'run-drill.sh')], {
      cwd: dir,
      env: { ...source.fixture.env, LIFEBOAT: `${process.execPath} ${join(process.cwd(), 'bin', 'lifeboat.js')}`, LIFEBOAT_CONFIG: source.fixture.configPath, LIFEBOAT_DRILL_SCENARIO: tight, LIFEBOAT_DRILL_REPORTS: reports, GITHUB_STEP_SUMMARY: join(dir, 'summary.md') },
      timeoutMs: 300_000,
    });
    expect(run.stdout).toMatch(/RTO by phase: plan [\d.]+ s, fetchBase [\d.]+ s, replay [\d.]+ s, promote [\d.]+ s/);
    const suite = readJunitFiles([join(reports, 'drill.xml')])[0]!.suites[0]!;
    expect(suite.declared.failures + suite.declared.errors).toBe(0);
    expect(suite.recomputed).toEqual(suite.declared);
    expect(suite.cases.map((c) => c.name)).toEqual(expect.arrayContaining(['rpo', 'rto', 'isolation', 'tables:postgres']));
    const json = JSON.parse(readFileSync(join(reports, 'drill.json'), 'utf8')) as DrillResult;
    expect(json.outcome).toBe('passed');
    expect(readFileSync(join(reports, 'drill.md'), 'utf8')).toContain(json.drillId);
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toContain(json.drillId);
    const history = await runLifeboatCli(source.fixture, ['drill', 'history', '--json']);
    expect(history.code, history.stderr).toBe(0);
    expect(history.stdout).toContain(json.drillId);

    // The same drill against a 10 ms RTO target (no restore meets it): exit 1, and the JUnit names exactly the RTO
    // case as failed.
    writeFileSync(source.fixture.configPath, readFileSync(source.fixture.configPath, 'utf8').replace('"rtoSeconds": 600', '"rtoSeconds": 0.01'));
    try {
      const failed = await runLifeboatCli(source.fixture, ['drill', 'run', '--scenario', tight, '--junit', join(dir, 'failed.xml')], { timeoutMs: 300_000 });
      expect(failed.code, failed.stderr).toBe(1);
      const cases = readJunitFiles([join(dir, 'failed.xml')])[0]!.suites[0]!.cases;
      expect(cases.filter((c) => c.outcome === 'failure').map((c) => c.name)).toEqual(['rto']);
    } finally {
      writeFileSync(source.fixture.configPath, readFileSync(source.fixture.configPath, 'utf8').replace('"rtoSeconds": 0.01', '"rtoSeconds": 600'));
    }
  }, 600_000);

  it('CLI: a repository that cannot be read exits with the storage error\'s code', async () => {
    const path = join(source.fixture.dir, 'repo');
    const config = readFileSync(source.fixture.configPath, 'utf8');
    writeFileSync(source.fixture.configPath, config.replace('"path": "./repo"', '"path": "./no-such-repo"'));
    try {
      const run = await runLifeboatCli(source.fixture, ['drill', 'run', '--junit', join(source.fixture.dir, 'error.xml')], { timeoutMs: 120_000 });
      expect(run.stderr).toMatch(/error\[(storageUnavailable|objectNotFound)\]/);
      expect([70, 71]).toContain(run.code);
    } finally {
      writeFileSync(source.fixture.configPath, config);
    }
    expect(existsSync(path)).toBe(true);
  }, 300_000);

  it('leaves no scratch folder and no record behind', () => {
    expect(existsSync(join(source.fixture.config.stateDir, 'drills')) ? readdirSync(join(source.fixture.config.stateDir, 'drills')) : []).toEqual([]);
  });
});
