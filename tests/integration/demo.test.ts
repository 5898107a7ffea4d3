// `npm run demo` (scripts/demo.sh) end to end, shrunk (pgbench scale 2, 5 s of load): it exits 0, its restore of
// the latest WAL into a second server matches the source's row count, and no process of it outlives it (no
// lifeboat, pg_receivewal, pgbench or postgres of its temp dir), run as root as the tests are.
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
    env: { ...process.env, LIFEBOAT_DEMO_SCALE: '2', LIFEBOAT_DEMO_LOAD_SECONDS: '5', LIFEBOAT_DEMO_SKIP_BUILD: '1' },
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
  it('exits 0, restores its own repository with the same rows, and leaves no process behind', { timeout: 600_000 }, async () => {
    const run = await runDemo();
    workDir = /demo files kept in (\/tmp\/lifeboat-demo\.\w+)/.exec(run.stdout)?.[1];
    expect(workDir, run.stdout + run.stderr).toBeDefined();

    // What the demo started is gone: everything seen in its tree (still the same process: same command line)
    // and anything naming its temp dir (a postmaster, pg_receivewal, lifeboat --config ...).
    const survivors = (): Map<number, string> => {
      const alive = processesNaming(workDir!);
      for (const [pid, cmdline] of run.seen) if (isProcessAlive(pid) && readCmdline(pid) === cmdline) alive.set(pid, cmdline);
      return alive;
    };
    // Processes already told to stop may take a moment to be reaped.
    await waitForProcessesGone([...survivors().keys()], 10_000).catch(() => undefined);
    const remaining = survivors();
    remaining.forEach((_, pid) => leftovers.add(pid));

    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect([...remaining].map(([pid, cmdline]) => `${pid}: ${cmdline}`)).toEqual([]);
    expect(run.stdout).toMatch(/== restore check passed: pgbench_history holds [1-9]\d* rows/);
  });
});
