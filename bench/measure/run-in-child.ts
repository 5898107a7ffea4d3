// Runs one benchmark task in a fresh child node process and returns its result with the child's own peak RSS
// and CPU time, read by the child from process.resourceUsage() as it ends. A fresh process per task keeps one
// task's heap, JIT state and worker threads from inflating the next one's peak.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskName, TaskParams, TaskResult } from '../tasks/task-registry.js';

/** What a child reports when its task completes. */
export interface ChildOutcome<R> {
  result: R;
  /** ru_maxrss of the child node process itself (not its children, e.g. pg_basebackup), in bytes. */
  peakRssBytes: number;
  /** User + system CPU of the child, all threads (workers, GC, libuv pool), in seconds. */
  cpuSeconds: number;
  /** User + system CPU of the processes the child ran and waited for (pg_basebackup, pg_receivewal), in seconds. */
  childProcessesCpuSeconds: number;
}

/** The file the child entry point writes its outcome to; see child-main.ts. */
export interface ChildOutcomeFile {
  result: unknown;
  maxRssKiB: number;
  userCpuMicros: number;
  systemCpuMicros: number;
  childProcessesCpuSeconds: number;
}

const CHILD_ENTRY = join(import.meta.dirname, '..', 'child-main.js');

/**
 * Runs task `name` with `params` in a child node process; rejects when it exits non-zero.
 * With BENCH_CPU_PROF=<dir> set, the child runs with --cpu-prof and leaves a .cpuprofile in that folder.
 */
export function runInChild<N extends TaskName>(name: N, params: TaskParams<N>, env: NodeJS.ProcessEnv = process.env): Promise<ChildOutcome<TaskResult<N>>> {
  return spawnChild(name, params, env, false) as Promise<ChildOutcome<TaskResult<N>>>;
}

/** What a child for task `name` costs before doing any work: node plus that task's modules loaded. */
export function measureChildBaseline(name: TaskName): Promise<ChildOutcome<unknown>> {
  return spawnChild(name, {}, process.env, true);
}

async function spawnChild(name: TaskName, params: unknown, env: NodeJS.ProcessEnv, loadOnly: boolean): Promise<ChildOutcome<unknown>> {
  const dir = await mkdtemp(join(tmpdir(), 'lifeboat-bench-child-'));
  try {
    const paramsPath = join(dir, 'params.json');
    const outcomePath = join(dir, 'outcome.json');
    await writeFile(paramsPath, JSON.stringify(params));
    const profileDir = process.env.BENCH_CPU_PROF;
    const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`] : [];
    const args = [...nodeArgs, CHILD_ENTRY, name, paramsPath, outcomePath, ...(loadOnly ? ['--load-only'] : [])];
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'inherit', 'inherit'] });
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? -1 : null)));
    });
    if (code !== 0) throw new Error(`benchmark task ${name} failed (child exit ${code}); its error is printed above`);
    const outcome = JSON.parse(await readFile(outcomePath, 'utf8')) as ChildOutcomeFile;
    return {
      result: outcome.result,
      peakRssBytes: outcome.maxRssKiB * 1024,
      cpuSeconds: (outcome.userCpuMicros + outcome.systemCpuMicros) / 1e6,
      childProcessesCpuSeconds: outcome.childProcessesCpuSeconds,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A setup line: what a child of task `name` costs before any work, which its peak RSS and CPU figures include. */
export async function describeChildBaseline(name: TaskName): Promise<string> {
  const idle = await measureChildBaseline(name);
  return `a \`${name}\` child with its modules loaded and no work done: ${(idle.peakRssBytes / 1e6).toFixed(0)} MB RSS, ${idle.cpuSeconds.toFixed(2)} s CPU (included in that task's peak RSS and CPU figures)`;
}
