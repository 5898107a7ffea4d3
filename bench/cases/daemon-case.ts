// Case 6, daemon: what `lifeboat daemon` costs. Idle (schedulers of every kind configured, none due, so only
// BullMQ's blocking waits, the heartbeat and the scheduler bookkeeping run) for 10 minutes (1 with --quick): its RSS
// and CPU from /proc; then a full backup of a pgbench database run by the daemon: the peak RSS of the daemon process
// itself (its job runs in a child) and of the job child.
import { Redis } from 'ioredis';
import { enqueueRun, openQueue, queueName } from '../../src/jobs/job-queues.js';
import { loadRunRecord, type RunRecord } from '../../src/jobs/run-record.js';
import { startDaemon, writeDaemonConfig, type DaemonProcess } from '../../tests/harness/daemon-runner.js';
import { startRedis, type RedisServer } from '../../tests/harness/redis.js';
import type { ServiceProcess } from '../../tests/harness/service-process.js';
import { startArchiverProcess } from '../../tests/harness/wal-archiver-runner.js';
import type { BenchContext } from '../bench-context.js';
import { createBenchFixture, databaseSizeBytes, runPgbench, startBenchPostgres } from '../data/bench-postgres.js';
import { readProcUsage, type ProcUsage } from '../measure/read-proc-usage.js';
import { fmt, fmtMB, type CaseResult } from '../report/case-report.js';

const PREFIX = 'lbbench';
/** Never due during the case (1 January, 03:00), so the idle window is idle; the schedulers still exist. */
const SCHEDULES = { full: '0 3 1 1 *', diff: '10 3 1 1 *', incr: '20 3 1 1 *', verify: '30 3 1 1 *' };
const IDLE_SAMPLE_MS = 5_000;
const BACKUP_SAMPLE_MS = 100;

interface Window {
  seconds: number;
  first: ProcUsage;
  last: ProcUsage;
  maxRssBytes: number;
}

function sample(pid: number): ProcUsage {
  const usage = readProcUsage(pid);
  if (!usage) throw new Error(`process ${pid} is gone`);
  return usage;
}

async function redisCommands(redis: Redis): Promise<number> {
  const match = /total_commands_processed:(\d+)/.exec(await redis.info('stats'));
  return Number(match?.[1] ?? 0);
}

async function measureIdle(daemon: DaemonProcess, seconds: number, log: (message: string) => void): Promise<Window> {
  const first = sample(daemon.pid);
  let maxRssBytes = first.rssBytes;
  const started = Date.now();
  let last = first;
  while (Date.now() - started < seconds * 1000) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(IDLE_SAMPLE_MS, seconds * 1000 - (Date.now() - started))));
    last = sample(daemon.pid);
    maxRssBytes = Math.max(maxRssBytes, last.rssBytes);
    if ((Date.now() - started) % 60_000 < IDLE_SAMPLE_MS) log(`idle ${Math.round((Date.now() - started) / 1000)} s, RSS ${fmtMB(last.rssBytes)} MB`);
  }
  return { seconds: (Date.now() - started) / 1000, first, last, maxRssBytes };
}

interface BackupMeasure {
  daemon: Window;
  child: { pid: number; peakRssBytes: number; cpuSeconds: number; waitedChildrenCpuSeconds: number };
  record: RunRecord;
}

async function measureFullBackup(daemon: DaemonProcess, redis: Redis, redisServer: RedisServer): Promise<BackupMeasure> {
  const queue = openQueue(queueName('main', 'full'), { host: redisServer.host, port: redisServer.port, maxRetriesPerRequest: null }, PREFIX);
  let runKey: string;
  try {
    ({ runKey } = await enqueueRun(queue, 'main', 'full', 'bench'));
  } finally {
    await queue.close();
  }
  const first = sample(daemon.pid);
  const started = Date.now();
  let maxRssBytes = first.rssBytes;
  let last = first;
  let childPid: number | undefined;
  let child: ProcUsage | undefined;
  for (;;) {
    last = sample(daemon.pid);
    maxRssBytes = Math.max(maxRssBytes, last.rssBytes);
    childPid ??= daemon.lines.find((line) => line.msg === 'job process started' && line.runKey === runKey)?.pid as number | undefined;
    // VmHWM only grows: the last reading before the child exits is its peak (to within one sample interval).
    const now = childPid === undefined ? undefined : readProcUsage(childPid);
    if (now) child = now;
    const record = await loadRunRecord(redis, PREFIX, runKey);
    if (record && record.state !== 'running') {
      if (record.state !== 'done') throw new Error(`the full run ended ${record.state}: ${record.errorCode ?? ''} ${record.message ?? ''}`);
      if (!child || childPid === undefined) throw new Error('the job child was never sampled');
      return {
        daemon: { seconds: (Date.now() - started) / 1000, first, last, maxRssBytes: Math.max(maxRssBytes, last.rssBytes) },
        child: { pid: childPid, peakRssBytes: child.peakRssBytes, cpuSeconds: child.cpuSeconds, waitedChildrenCpuSeconds: child.waitedChildrenCpuSeconds },
        record,
      };
    }
    if (Date.now() - started > 3_600_000) throw new Error('the full run did not end within an hour');
    await new Promise((resolve) => setTimeout(resolve, BACKUP_SAMPLE_MS));
  }
}

export async function runDaemonCase(ctx: BenchContext): Promise<CaseResult> {
  const idleSeconds = ctx.quick ? 60 : 600;
  const scale = ctx.quick ? 10 : 100;
  const log = (message: string): void => ctx.log(`daemon: ${message}`);
  log(`loading pgbench scale ${scale}`);
  const [pg, redisServer] = await Promise.all([startBenchPostgres(), startRedis()]);
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
  let archiver: ServiceProcess | undefined;
  let daemon: DaemonProcess | undefined;
  const fixture = createBenchFixture(pg);
  try {
    await runPgbench(pg, ['-i', '-q', '-s', String(scale)]);
    await pg.query('VACUUM FREEZE');
    await pg.query('CHECKPOINT');
    const sizeBytes = await databaseSizeBytes(pg);
    // The daemon does not archive WAL yet (the next issue supervises the archiver): a full backup needs one.
    archiver = startArchiverProcess(fixture);
    const configPath = writeDaemonConfig(fixture, 'bench', {
      top: { redis: { url: redisServer.url, prefix: PREFIX }, daemon: { listen: '127.0.0.1:0' } },
      cluster: { schedules: SCHEDULES },
    });
    daemon = startDaemon(fixture, 'bench', configPath, { LIFEBOAT_LOG_LEVEL: 'info' });
    await daemon.waitForLine('daemon ready', (line) => line.msg === 'daemon ready', 120_000);
    // Start-up (module loading, first reconciliation) is over before the idle window opens.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    log(`idle for ${idleSeconds} s`);
    const commandsBefore = await redisCommands(redis);
    const idle = await measureIdle(daemon, idleSeconds, log);
    // Our own INFO call is one of them; the daemon's commands are the rest.
    const idleRedisCommands = (await redisCommands(redis)) - commandsBefore - 1;
    log('full backup run by the daemon');
    const backup = await measureFullBackup(daemon, redis, redisServer);
    const idleCpu = idle.last.cpuSeconds - idle.first.cpuSeconds;
    const backupCpu = backup.daemon.last.cpuSeconds - backup.daemon.first.cpuSeconds;
    const rows = [
      [`idle ${Math.round(idle.seconds)} s`, 'daemon', fmtMB(idle.first.rssBytes), fmtMB(idle.last.rssBytes), fmtMB(idle.maxRssBytes), fmt(idleCpu, 2), fmt((idleCpu / idle.seconds) * 100, 3)],
      [
        `full backup ${Math.round(backup.daemon.seconds)} s`,
        'daemon',
        fmtMB(backup.daemon.first.rssBytes),
        fmtMB(backup.daemon.last.rssBytes),
        fmtMB(backup.daemon.maxRssBytes),
        fmt(backupCpu, 2),
        fmt((backupCpu / backup.daemon.seconds) * 100, 2),
      ],
      [
        `full backup ${Math.round(backup.daemon.seconds)} s`,
        'job child',
        '-',
        '-',
        fmtMB(backup.child.peakRssBytes),
        fmt(backup.child.cpuSeconds, 1),
        fmt((backup.child.cpuSeconds / backup.daemon.seconds) * 100, 0),
      ],
    ];
    const daemonPeak = sample(daemon.pid).peakRssBytes;
    return {
      name: 'daemon',
      title: 'Daemon',
      setup: [
        `one daemon (\`lifeboat daemon\`, info logging to a pipe), one cluster, schedulers for full, diff, incr and verify none of which is due (${Object.values(SCHEDULES).join(', ')}); local Redis, fs repository`,
        `idle: ${idleSeconds} s after start-up, /proc/<pid>/status (VmRSS) and /proc/<pid>/stat (utime + stime) sampled every ${IDLE_SAMPLE_MS / 1000} s; Redis commands counted with INFO stats`,
        `full backup: \`jobs run full\` on pgbench scale ${scale} (database ${fmtMB(sizeBytes)} MB, VACUUM FREEZE; CHECKPOINT), \`lifeboat wal archive\` as a separate process; sampled every ${BACKUP_SAMPLE_MS} ms; the job child's peak is its VmHWM`,
      ],
      tables: [
        {
          title: 'Daemon RSS and CPU (MB = 10^6 bytes; CPU % of one core over the phase)',
          headers: ['phase', 'process', 'RSS MB at start', 'RSS MB at end', 'peak RSS MB', 'CPU s', 'CPU %'],
          rows,
        },
      ],
      notes: [
        `idle: ${fmt(idleRedisCommands / idle.seconds, 2)} Redis commands/s from the daemon (BullMQ's blocking waits for jobs, the heartbeat)`,
        `the daemon's peak RSS since it started (VmHWM, start-up and the backup included): ${fmtMB(daemonPeak)} MB`,
        `the full backup: ${backup.record.backupId ?? '-'}, ${backup.record.message ?? ''}; the job child's waited-for children (pg_basebackup) used ${fmt(backup.child.waitedChildrenCpuSeconds, 1)} CPU s`,
      ],
      data: { idleSeconds, idle, backup, idleRedisCommands, daemonPeakRssBytes: daemonPeak, databaseSizeBytes: sizeBytes },
    };
  } finally {
    if (daemon) {
      daemon.child.kill('SIGTERM');
      await daemon.exited;
    }
    await archiver?.stop();
    redis.disconnect();
    await Promise.all([pg.stop(), redisServer.stop()]);
    fixture.cleanup();
  }
}
