// `npm run demo` (scripts/demo.sh) end to end, shrunk (pgbench scale 2): it exits 0, its daemon ran a full backup,
// an incr and a verify on its second-level schedules and stopped with exit 0 on SIGTERM, its restore of the latest
// WAL into a second server matches the source's row count, and no process of it outlives it (no lifeboat daemon or
// job child, pg_receivewal, pgbench, postgres or redis-server), run as root as the tests are.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { isProcessAlive, killProcessTreeSync, listProcessTree, waitForProcessesGone } from '../harness/process-tree.js';

interface DemoRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Every process seen in the demo's tree while it ran, by pid, with its command line. */
  seen: Map<number, string>;
}

function readCmdline(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return undefined;
  }
}

/** Living processes whose command line names `text`. */
function processesNaming(text: string): Map<number, string> {
  const found = new Map<number, string>();
  for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    const cmdline = readCmdline(Number(entry));
    if (cmdline?.includes(text) && isProcessAlive(Number(entry))) found.set(Number(entry), cmdline);
  }
  return found;
}

function runDemo(): Promise<DemoRun> {
  const child = spawn('bash', ['scripts/demo.sh'], {
    cwd: process.cwd(),
    env: { ...process.env, LIFEBOAT_DEMO_SCALE: '2', LIFEBOAT_DEMO_DAEMON_TIMEOUT_SECONDS: '90', LIFEBOAT_DEMO_SKIP_BUILD: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run: DemoRun = { code: null, stdout: '', stderr: '', seen: new Map() };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (run.stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (run.stderr += chunk));
  // Sample the tree often: a process that escapes it (reparented to init) must have been seen inside it first.
  const sampler = setInterval(() => {
    for (const pid of listProcessTree(child.pid!)) {
      const cmdline = readCmdline(pid);
      if (cmdline !== undefined && !run.seen.has(pid)) run.seen.set(pid, cmdline);
    }
  }, 50);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    // A process the demo left behind keeps its stdout open, so 'close' may never come: wait for it 5 s at most.
    child.once('exit', (code) => {
      clearInterval(sampler);
      run.code = code;
      const settle = setTimeout(() => resolve(run), 5000);
      child.once('close', () => {
        clearTimeout(settle);
        resolve(run);
      });
    });
  });
}

let workDir: string | undefined;
const leftovers = new Set<number>();

afterAll(() => {
  for (const pid of leftovers) killProcessTreeSync(pid);
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('npm run demo', () => {
  it('exits 0, its daemon runs full, incr and verify, it restores with the same rows, and leaves no process behind', { timeout: 360_000 }, async () => {
    const run = await runDemo();
    const output = `${run.stdout}\n${run.stderr}`;
    workDir = /demo files kept in (\/tmp\/lifeboat-demo\.\w+)/.exec(run.stdout)?.[1];
    expect(workDir, output).toBeDefined();
    const redisAddress = /== scratch Redis on (127\.0\.0\.1:\d+)/.exec(run.stdout)?.[1];
    expect(redisAddress, output).toBeDefined();

    // What the demo started is gone: everything seen in its tree (still the same process: same command line),
    // anything naming its temp dir (a postmaster, pg_receivewal, lifeboat --config ...) and its redis-server
    // (whose title names its address, not the temp dir).
    const survivors = (): Map<number, string> => {
      const alive = processesNaming(workDir!);
      for (const [pid, cmdline] of processesNaming(`redis-server ${redisAddress!}`)) alive.set(pid, cmdline);
      for (const [pid, cmdline] of run.seen) if (isProcessAlive(pid) && readCmdline(pid) === cmdline) alive.set(pid, cmdline);
      return alive;
    };
    // Processes already told to stop may take a moment to be reaped.
    await waitForProcessesGone([...survivors().keys()], 10_000).catch(() => undefined);
    const remaining = survivors();
    remaining.forEach((_, pid) => leftovers.add(pid));

    expect(run.code, output).toBe(0);
    expect([...remaining].map(([pid, cmdline]) => `${pid}: ${cmdline}`)).toEqual([]);
    // The check above covered the daemon, its job children and Redis: they were seen while the demo ran.
    const seen = [...run.seen.values()];
    expect(seen.some((cmdline) => cmdline.includes('lifeboat.js --config') && cmdline.endsWith(' daemon')), seen.join('\n')).toBe(true);
    expect(seen.some((cmdline) => cmdline.includes('job-child-entry.js')), seen.join('\n')).toBe(true);
    expect(seen.some((cmdline) => cmdline.startsWith('redis-server')), seen.join('\n')).toBe(true);

    // The daemon, not the CLI, took the full backup and the incr and ran the verify (read from its run records),
    // `lifeboat status` shows all three, and the daemon stopped with exit 0 on SIGTERM.
    expect(run.stdout).toMatch(/== the daemon did full \d{8}T\d{6}Z-F, incr \d{8}T\d{6}Z-I, verify \(verified [1-9]\d* backup\(s\)/);
    const status = run.stdout.slice(run.stdout.indexOf('== lifeboat status'), run.stdout.indexOf('== stop the daemon'));
    for (const kind of ['full', 'incr', 'verify']) expect(status, output).toMatch(new RegExp(`^  ${kind} +last ok \\S+ \\(\\d+ s ago\\)`, 'm'));
    expect(status).toMatch(/^daemons alive: 1$/m);
    // The drill ran while the daemon and the archiver did, passed its targets, and left no scratch server.
    expect(run.stdout).toMatch(/^drill drill-main-\d{8}T\d{6}Z \(latest\) on cluster main: PASSED$/m);
    expect(run.stdout).toMatch(/RTO by phase: plan [\d.]+ s, fetchBase [\d.]+ s, replay [\d.]+ s, promote [\d.]+ s = [\d.]+ s/);
    // Under load with the daemon running, the loss is at most the partial upload interval (10 s) + the heartbeat
    // interval (2 s) + 5 s, the bound, not just the configured 60 s target.
    const rpo = Number(/ok {3}RPO ([\d.]+) s \(target 60 s\) by heartbeat/.exec(run.stdout)?.[1]);
    expect(rpo, output).toBeLessThanOrEqual(10 + 2 + 5);
    expect([...processesNaming('lifeboat-drill-')]).toEqual([]);
    expect(run.stdout).toContain('== daemon stopped (exit 0)');
    expect(run.stdout).toMatch(/== restore check passed: pgbench_history holds [1-9]\d* rows/);
    // No secret in what the demo printed nor in the logs it kept: the Redis password (in its 0600 redis.conf, handed
    // to Lifeboat as a secret reference) and the superuser's.
    const secrets = [
      /^requirepass (\S+)$/m.exec(readFileSync(`${workDir!}/redis/redis.conf`, 'utf8'))?.[1],
      readFileSync(`${workDir!}/superpass`, 'utf8').trim(),
    ];
    expect(secrets.every((secret) => secret !== undefined && secret.length >= 16)).toBe(true);
    const logs = ['daemon.log', 'archiver.log', 'redis.log'].map((name) => readFileSync(`${workDir!}/${name}`, 'utf8'));
    for (const text of [output, ...logs]) for (const secret of secrets) expect(text.includes(secret!)).toBe(false);
  });
});
