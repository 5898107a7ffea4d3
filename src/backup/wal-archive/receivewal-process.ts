// Runs pg_receivewal into the spool on the streaming slot, and finds an orphan left by a killed archiver
// (recorded in a pid file, with the archiver that owned it) so that two receivers never write the same spool.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RuntimeCluster } from '../../config/index.js';
import { startPgTool, type PgToolProcess } from '../../postgres/index.js';

const PID_FILE = 'receivewal.pid';

/** What the pid file records: the receiver and the archiver process that started it. */
interface ReceiverRecord {
  receiverPid: number;
  /** Absent in pid files written before the owner was recorded. */
  ownerPid: number | undefined;
}

/** The receiver still running as the pid file says, or why it is left alone. */
export type OrphanCheck =
  | { kind: 'none' }
  | { kind: 'orphan'; receiverPid: number; ownerPid: number }
  | { kind: 'owned'; receiverPid: number; ownerPid: number | undefined; parentPid: number | undefined };

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function commandLineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** The parent pid of a live process (Linux /proc), or undefined when it cannot be read. */
function parentPidOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: the fields we want follow the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) ? ppid : undefined;
  } catch {
    return undefined;
  }
}

function readRecord(spoolDir: string): ReceiverRecord | undefined {
  let text: string;
  try {
    text = readFileSync(`${spoolDir}/${PID_FILE}`, 'utf8');
  } catch {
    return undefined;
  }
  const [receiver, owner] = text.trim().split(/\s+/).map(Number);
  if (receiver === undefined || !Number.isInteger(receiver) || receiver <= 0) return undefined;
  return { receiverPid: receiver, ownerPid: owner !== undefined && Number.isInteger(owner) && owner > 0 ? owner : undefined };
}

/**
 * Find a pg_receivewal still writing into `spoolDir` from an earlier run, and tell whether its owner is
 * provably dead. The pid file alone is not trusted: the pid must still run pg_receivewal on this spool (pids are
 * reused). The owner is dead when the receiver's parent is no longer the recorded owner: a process keeps its
 * parent for as long as that parent lives and is re-parented only when it dies, so pid reuse of the owner cannot
 * fool this. A pid file without an owner (an older Lifeboat) proves nothing, and its receiver is left alone.
 */
export function checkOrphanedReceiver(spoolDir: string): OrphanCheck {
  const record = readRecord(spoolDir);
  if (record === undefined || !isAlive(record.receiverPid)) return { kind: 'none' };
  const { receiverPid, ownerPid } = record;
  const cmdline = commandLineOf(receiverPid);
  if (!cmdline.includes('pg_receivewal') || !cmdline.includes(spoolDir)) return { kind: 'none' };
  const parent = parentPidOf(receiverPid);
  if (ownerPid === undefined || parent === undefined || parent === ownerPid) return { kind: 'owned', receiverPid, ownerPid, parentPid: parent };
  return { kind: 'orphan', receiverPid, ownerPid };
}

/**
 * Terminate a pg_receivewal left writing into `spoolDir` by an archiver that died. The caller must hold the
 * archiver lock of this spool (so no live archiver can own a receiver here); on top of that, only a receiver
 * whose recorded owner is provably dead is ended (see {@link checkOrphanedReceiver}), so a mistake in the lock's
 * scope can never kill a live archiver's child. Returns what was found.
 */
export async function stopOrphanedReceiver(spoolDir: string): Promise<OrphanCheck> {
  const found = checkOrphanedReceiver(spoolDir);
  if (found.kind !== 'orphan') return found;
  const pid = found.receiverPid;
  process.kill(pid, 'SIGTERM');
  for (let waited = 0; waited < 10_000 && isAlive(pid) && commandLineOf(pid) !== ''; waited += 100) await sleep(100);
  if (isAlive(pid) && commandLineOf(pid) !== '') process.kill(pid, 'SIGKILL');
  return found;
}

/** Start pg_receivewal on `slotName` into `spoolDir` and record its pid and ours. It stops at the first error (-n). */
export function startReceiver(cluster: RuntimeCluster, spoolDir: string, signal: AbortSignal): PgToolProcess {
  const receiver = startPgTool(
    cluster,
    'pg_receivewal',
    ['--directory', spoolDir, '--slot', cluster.wal.slotName, '--no-loop', '--no-password', '--status-interval', '10', '--verbose'],
    { signal, stdout: 'ignore', applicationName: 'lifeboat-receivewal' },
  );
  if (receiver.child.pid !== undefined) writeFileSync(`${spoolDir}/${PID_FILE}`, `${receiver.child.pid} ${process.pid}\n`);
  receiver.done.finally(() => rmSync(`${spoolDir}/${PID_FILE}`, { force: true })).catch(() => undefined);
  return receiver;
}
