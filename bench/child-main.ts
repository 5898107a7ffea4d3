// Entry point of a benchmark child process: runs one task from the registry with the parameters the parent
// wrote, then records the result with this process's peak RSS and CPU time. See measure/run-in-child.ts.
// Like bin/lifeboat.js, it tunes the heap for streaming before loading anything else (hence the dynamic imports).
import { readFileSync, writeFileSync } from 'node:fs';
import { tuneHeapForStreams } from '../src/compress/heap-tuning.js';
import type { ChildOutcomeFile } from './measure/run-in-child.js';
import type { TaskName } from './tasks/task-registry.js';

tuneHeapForStreams();
const { shutdownZstdPool } = await import('../src/compress/index.js');
const { TASKS } = await import('./tasks/task-registry.js');

/** cutime + cstime from /proc/self/stat: CPU of the processes this one ran and waited for. Clock ticks are 100 Hz on Linux. */
function waitedChildrenCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

const [name, paramsPath, outcomePath, mode] = process.argv.slice(2);
if (name === undefined || !(name in TASKS) || paramsPath === undefined || outcomePath === undefined) {
  throw new Error(`usage: child-main.js <${Object.keys(TASKS).join('|')}> <params.json> <outcome.json> [--load-only]`);
}
// The parent wrote these parameters for this very task (see runInChild's types); they are not outside input.
const task = (await TASKS[name as TaskName]()) as (params: unknown) => Promise<unknown>;
// --load-only: stop here, to measure what the process costs before any work (see measureChildBaseline).
const result = mode === '--load-only' ? null : await task(JSON.parse(readFileSync(paramsPath, 'utf8')));
await shutdownZstdPool();
const usage = process.resourceUsage();
const outcome: ChildOutcomeFile = {
  result,
  maxRssKiB: usage.maxRSS,
  userCpuMicros: usage.userCPUTime,
  systemCpuMicros: usage.systemCPUTime,
  childProcessesCpuSeconds: waitedChildrenCpuSeconds(),
};
writeFileSync(outcomePath, JSON.stringify(outcome));
// Stray handles (pg pools, SDK sockets) must not keep a finished child alive.
process.exit(0);
