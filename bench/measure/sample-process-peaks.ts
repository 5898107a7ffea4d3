// Peak RSS of every process a tool starts, sampled from /proc while it runs: the processes whose command line
// names one of the run's own paths (a config file, a restore target) and all their descendants, grouped by role
// ("lifeboat wal fetch", "pgbackrest archive-get", "pg_ctl"). Processes that reparent (a daemonized postmaster,
// pgBackRest's async worker) are still found through the paths on their command lines. A process that an untracked
// one forks and then exec()s (the shell of a server's archive_command) is found through its children only. Sampling
// costs ~5% of a core here; a process shorter than the interval can be missed (see the one-command figures). Linux.
import { readdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';

/** Peak RSS of one role over every process of it that was seen. */
export interface RolePeak {
  role: string;
  /** Distinct processes seen (a process shorter than the sampling interval can be missed). */
  processes: number;
  /** Largest VmHWM seen among them, in bytes. */
  peakRssBytes: number;
}

export interface ProcessSampler {
  /** Also follow `pid` and its descendants (a command the bench spawned itself). */
  addRoot(pid: number): void;
  /** Stops sampling and returns the peaks by role, largest first. */
  stop(): RolePeak[];
}

interface Seen {
  comm: string;
  /** The whole command line, arguments joined by spaces. */
  line: string;
  tracked: boolean;
  /** Started by the bench itself (psql, pg_ctl, through runuser or not) rather than by the tool under test. */
  benchOwn: boolean;
  role?: string;
  peakRssBytes: number;
}

/** PostgreSQL's own server processes are the same whichever tool restores; `runuser` is only a wrapper. */
const IGNORED_COMMANDS = new Set(['postgres', 'runuser']);

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** What a process is, from its command line: the Lifeboat or pgBackRest command it runs, else its program. */
export function roleOf(comm: string, argv: readonly string[]): string {
  const cli = argv.findIndex((arg) => arg.endsWith('/lifeboat.js') || arg === 'lifeboat');
  if (cli >= 0) {
    const words: string[] = [];
    for (let i = cli + 1; i < argv.length && words.length < 2; i++) {
      const arg = argv[i]!;
      if (arg === '--config') i += 1;
      else if (arg.startsWith('-')) {
        if (words.length === 0) words.push(arg);
        break;
      } else words.push(arg);
    }
    // Only `wal` and `backup` take a second word.
    const command = words[0] === 'wal' || words[0] === 'backup' ? words.join(' ') : (words[0] ?? '');
    return `lifeboat ${command}`.trim();
  }
  if (comm === 'pgbackrest' || basename(argv[0] ?? '') === 'pgbackrest') {
    const command = argv.slice(1).find((arg) => !arg.startsWith('-'));
    return `pgbackrest ${command ?? ''}`.trim();
  }
  return comm;
}

/**
 * Samples /proc every `intervalMs` (default 20) until stop(). `tokens`: substrings of command lines that mark a
 * process as the run's own (paths unique to this run). Commands the bench starts itself (a psql polling the
 * restored server, the pg_ctl that starts it for pgBackRest) are not counted, unless added with addRoot().
 */
export function startProcessSampler(tokens: readonly string[], intervalMs = 20): ProcessSampler {
  const benchPid = process.pid;
  const roots = new Set<number>();
  // Keyed by pid and start time (a reused pid is another process). A process that exec()s another program keeps
  // both but gets a new comm and a fresh VmHWM: its earlier program is then kept in `finished`.
  const seen = new Map<string, Seen>();
  const finished: Seen[] = [];
  const keyOfPid = new Map<number, string>();

  const inspect = (pid: number): void => {
    const stat = readText(`/proc/${pid}/stat`);
    if (stat === undefined) return;
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const key = `${pid}:${fields[19]}`;
    let entry = seen.get(key);
    if (entry !== undefined && entry.comm !== comm) {
      if (entry.role !== undefined) finished.push(entry);
      entry = undefined;
    }
    if (entry === undefined) {
      const ppid = Number(fields[1]);
      const argv = (readText(`/proc/${pid}/cmdline`) ?? '').split('\0').filter((arg) => arg !== '');
      const line = argv.join(' ');
      const parentKey = keyOfPid.get(ppid);
      const parent = parentKey === undefined ? undefined : seen.get(parentKey);
      // Forked but not yet exec()ed: a copy of its parent for a moment; look again at the next sample.
      if (parent !== undefined && parent.comm === comm && parent.line === line && comm !== 'postgres') return;
      const isRoot = roots.has(pid);
      // A server that the bench's pg_ctl starts is PostgreSQL's, and its children (restore_command) the tool's.
      const benchOwn = !isRoot && (ppid === benchPid || (parent?.benchOwn === true && comm !== 'postgres'));
      const tracked = !benchOwn && (isRoot || tokens.some((token) => line.includes(token)) || parent?.tracked === true);
      entry = { comm, line, tracked, benchOwn, peakRssBytes: 0, ...(tracked && !IGNORED_COMMANDS.has(comm) ? { role: roleOf(comm, argv) } : {}) };
      seen.set(key, entry);
      keyOfPid.set(pid, key);
    }
    if (entry.role === undefined) return;
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readText(`/proc/${pid}/status`) ?? '');
    if (hwm) entry.peakRssBytes = Math.max(entry.peakRssBytes, Number(hwm[1]) * 1024);
  };

  const sample = (): void => {
    let pids: number[];
    try {
      pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number);
    } catch {
      return;
    }
    // A pid gone is forgotten, so that a reuse of it is inspected as the new process it is.
    const alive = new Set(pids);
    for (const pid of keyOfPid.keys()) if (!alive.has(pid)) keyOfPid.delete(pid);
    // Ascending pids: a parent is usually inspected before its children, so they inherit its tracking at once.
    // Known processes that are neither tracked nor the bench's own are not read again: on a busy host they are
    // most of /proc, and reading them all every 20 ms cost 15% of a core.
    pids.sort((a, b) => a - b);
    for (const pid of pids) {
      const key = keyOfPid.get(pid);
      const known = key === undefined ? undefined : seen.get(key);
      if (known === undefined || known.tracked || known.benchOwn) inspect(pid);
    }
  };

  sample();
  const timer = setInterval(sample, intervalMs);
  let stopped: RolePeak[] | undefined;
  return {
    addRoot(pid) {
      roots.add(pid);
      const key = keyOfPid.get(pid);
      if (key !== undefined) seen.delete(key);
      inspect(pid);
    },
    stop() {
      if (stopped !== undefined) return stopped;
      clearInterval(timer);
      sample();
      const byRole = new Map<string, RolePeak>();
      for (const entry of [...finished, ...seen.values()]) {
        if (entry.role === undefined || entry.peakRssBytes === 0) continue;
        const peak = byRole.get(entry.role) ?? { role: entry.role, processes: 0, peakRssBytes: 0 };
        peak.processes += 1;
        peak.peakRssBytes = Math.max(peak.peakRssBytes, entry.peakRssBytes);
        byRole.set(entry.role, peak);
      }
      stopped = [...byRole.values()].sort((a, b) => b.peakRssBytes - a.peakRssBytes);
      return stopped;
    },
  };
}

/** Merges the peaks of several runs of one operation: processes summed, the largest peak kept. */
export function mergeRolePeaks(runs: readonly (readonly RolePeak[])[]): RolePeak[] {
  const byRole = new Map<string, RolePeak>();
  for (const peaks of runs) {
    for (const peak of peaks) {
      const merged = byRole.get(peak.role) ?? { role: peak.role, processes: 0, peakRssBytes: 0 };
      merged.processes += peak.processes;
      merged.peakRssBytes = Math.max(merged.peakRssBytes, peak.peakRssBytes);
      byRole.set(peak.role, merged);
    }
  }
  return [...byRole.values()].sort((a, b) => b.peakRssBytes - a.peakRssBytes);
}
