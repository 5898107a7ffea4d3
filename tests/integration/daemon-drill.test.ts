// A restore drill run by the daemon from its schedule: a daemon on a drill host (`jobs: [drill]`) runs the drill
// at its cron time while the archiver and the daemon's own heartbeat run; the result appears in `drill history`
// and in /metrics (last drill's outcome, RPO, RTO, time), and the job is recorded done. A scratch server a killed
// drill left behind is removed when the daemon starts.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrillResult } from '../../src/drills/drill-result.js';
import { startDaemon, writeDaemonConfig, type DaemonProcess } from '../harness/daemon-runner.js';
import { runLifeboatCli } from '../harness/lifeboat-cli.js';
import { startRedis, type RedisServer } from '../harness/redis.js';
import { startRestoreSource, type RestoreSource } from '../harness/restore-source.js';
import { parseMetricSamples } from '../harness/metrics-samples.js';
import { waitFor } from '../harness/wait-for.js';
import { ensureCliBuilt } from '../harness/wal-archiver-runner.js';

let source: RestoreSource;
let redisServer: RedisServer;
let daemon: DaemonProcess | undefined;
let grantLoop: NodeJS.Timeout | undefined;

beforeAll(async () => {
  ensureCliBuilt();
  [source, redisServer] = await Promise.all([startRestoreSource(), startRedis()]);
  await source.fullBackup();
  // The job child runs as root here and the archiver writes 0600 objects; restore_command runs as postgres.
  await source.grantRepositoryRead();
  grantLoop = setInterval(() => void source.grantRepositoryRead().catch(() => undefined), 250);
}, 300_000);

afterAll(async () => {
  if (grantLoop) clearInterval(grantLoop);
  daemon?.child.kill('SIGKILL');
  await Promise.all([source?.stop(), redisServer?.stop()]);
});

describe('drills from the daemon', () => {
  it('runs the scheduled drill; it shows in drill history and /metrics; an abandoned scratch server is removed at start', async () => {
    // At a second-level cron time 20 s from now (6 fields, leading seconds), once a minute.
    const second = (Math.floor(Date.now() / 1000) + 20) % 60;
    const configPath = writeDaemonConfig(source.fixture, 'd1', {
      top: { redis: { url: redisServer.url, prefix: 'lbdrill' }, daemon: { listen: '127.0.0.1:0', jobs: ['drill'], lockLeaseSeconds: 5 } },
      cluster: { schedules: { drill: `${second} * * * * *` }, drill: { heartbeatSeconds: 1, targets: { rpoSeconds: 60, rtoSeconds: 600 } } },
    });
    // What a drill killed with its daemon leaves: a record naming a scratch data directory (here an empty folder).
    const abandoned = join(source.fixture.dir, 'abandoned-scratch');
    mkdirSync(abandoned);
    mkdirSync(join(source.fixture.dir, 'state-d1', 'drills'), { recursive: true });
    writeFileSync(join(source.fixture.dir, 'state-d1', 'drills', 'drill-main-20260101T000000Z.json'), JSON.stringify({ drillId: 'drill-main-20260101T000000Z', pid: 999_999, dataDir: abandoned, workDir: `${abandoned}.lifeboat-restore`, startedTime: '2026-01-01T00:00:00Z' }));

    daemon = startDaemon(source.fixture, 'd1', configPath);
    const ready = await daemon.waitForLine('ready', (line) => line.msg === 'daemon ready', 60_000);
    expect(daemon.lines.some((line) => line.msg === 'removed the scratch server of a drill that did not finish' && line.dataDir === abandoned)).toBe(true);

    const history = await waitFor(
      'the scheduled drill in drill history',
      async () => {
        const run = await runLifeboatCli(source.fixture, ['--config', configPath, 'drill', 'history', '--json']);
        const drills = run.code === 0 ? (JSON.parse(run.stdout) as { drills: DrillResult[] }).drills : [];
        return drills.length > 0 ? drills : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 3_000 },
    );
    const drill = history[0]!;
    expect(drill.outcome, JSON.stringify(drill.checks)).toBe('passed');
    expect(drill.rpo.method).toBe('heartbeat');

    const jobs = await runLifeboatCli(source.fixture, ['--config', configPath, 'jobs', 'list', '--json']);
    const runs = (JSON.parse(jobs.stdout) as { runs: { kind: string; state: string; message?: string }[] }).runs;
    expect(runs.find((r) => r.kind === 'drill' && r.state === 'done')?.message).toContain(drill.drillId);

    // /metrics reads the drill from the repository (cached up to 30 s).
    const values = await waitFor(
      'the drill in /metrics',
      async () => {
        const v = parseMetricSamples(await (await fetch(`http://${ready.listen as string}/metrics`)).text());
        return v.has('lifeboat_drill_last_passed{cluster="main"}') ? v : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 2_000 },
    );
    expect(values.get('lifeboat_drill_last_passed{cluster="main"}')).toBe(1);
    expect(values.get('lifeboat_drill_last_rto_seconds{cluster="main"}')).toBeCloseTo(drill.rto.seconds!, 3);
    expect(values.get('lifeboat_drill_last_rpo_seconds{cluster="main"}')).toBeCloseTo(drill.rpo.seconds!, 3);
    expect(values.get('lifeboat_drill_last_timestamp_seconds{cluster="main"}')).toBe(Date.parse(drill.finishedTime) / 1000);
  }, 400_000);
});
