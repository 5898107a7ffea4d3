// Reads one process's memory and CPU from /proc (Linux), from outside it: what a long-running process such as the
// daemon costs while it runs, without waiting for it to exit (process.resourceUsage() is only seen from inside).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ProcUsage {
  /** Resident set now (VmRSS), in bytes. */
  rssBytes: number;
  /** Peak resident set since the process started (VmHWM), in bytes. */
  peakRssBytes: number;
  /** User + system CPU of the process (all threads) so far, in seconds. */
  cpuSeconds: number;
  /** User + system CPU of its children that it has waited for, in seconds. */
  waitedChildrenCpuSeconds: number;
}

let clockTicks: number | undefined;

function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

function statusKiB(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  return match ? Number(match[1]) : 0;
}

/** The usage of `pid` now, or undefined when it has exited. */
export function readProcUsage(pid: number): ProcUsage | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3; utime..cstime are fields 14-17.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [utime, stime, cutime, cstime] = fields.slice(11, 15).map(Number) as [number, number, number, number];
    const hz = ticksPerSecond();
    return {
      rssBytes: statusKiB(status, 'VmRSS') * 1024,
      peakRssBytes: statusKiB(status, 'VmHWM') * 1024,
      cpuSeconds: (utime + stime) / hz,
      waitedChildrenCpuSeconds: (cutime + cstime) / hz,
    };
  } catch {
    return undefined;
  }
}
