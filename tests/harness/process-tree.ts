// Finds and kills a process together with everything it forked (a postmaster and its backends), by reading
// /proc. Used for crash simulation (kill -9 the whole server) and for last-chance cleanup. Linux only;
// elsewhere it degrades to the single pid. Zombies count as dead: our pid 1 may never reap them.
import { readdirSync, readFileSync } from 'node:fs';

interface ProcStat {
  state: string;
  ppid: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses; the fields we want follow the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '?', ppid: Number(fields[1]) };
  } catch {
    return undefined;
  }
}

/** True while `pid` exists and is not a zombie. */
export function isProcessAlive(pid: number): boolean {
  const stat = readStat(pid);
  if (stat !== undefined) return stat.state !== 'Z' && stat.state !== 'X';
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `pid` followed by all its living descendants (children, grandchildren, ...). */
export function listProcessTree(pid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return [pid];
  }
  const childrenOf = new Map<number, number[]>();
  for (const entry of entries) {
    const stat = readStat(Number(entry));
    if (stat === undefined) continue;
    const siblings = childrenOf.get(stat.ppid) ?? [];
    siblings.push(Number(entry));
    childrenOf.set(stat.ppid, siblings);
  }
  const tree: number[] = [];
  const queue = [pid];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    tree.push(next);
    queue.push(...(childrenOf.get(next) ?? []));
  }
  return tree;
}

/** Sends `signal` to `pid` and all its descendants; returns the pids signalled. Never throws. */
export function killProcessTreeSync(pid: number, signal: NodeJS.Signals = 'SIGKILL'): number[] {
  const tree = listProcessTree(pid);
  for (const member of tree) {
    try {
      process.kill(member, signal);
    } catch {
      // Already gone.
    }
  }
  return tree;
}

/** Resolves once none of `pids` is alive; rejects after `timeoutMs`. */
export async function waitForProcessesGone(pids: readonly number[], timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(isProcessAlive)) {
    if (Date.now() > deadline) throw new Error(`processes still alive after ${timeoutMs} ms: ${pids.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
