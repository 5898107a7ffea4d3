// Runs pg_receivewal into the spool on the streaming slot, and finds an orphan left by a killed archiver
// (recorded in a pid file) so that two receivers never write the same spool.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RuntimeCluster } from '../../config/index.js';
import { startPgTool, type PgToolProcess } from '../../postgres/index.js';

const PID_FILE = 'receivewal.pid';

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

/**
 * Terminate a pg_receivewal still writing into `spoolDir` from an earlier run. The pid file alone is not
 * trusted: the pid must still run pg_receivewal on this spool (pids are reused). Returns the pid it ended.
 */
export async function stopOrphanedReceiver(spoolDir: string): Promise<number | undefined> {
  let pid: number;
  try {
    pid = Number(readFileSync(`${spoolDir}/${PID_FILE}`, 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
  const cmdline = commandLineOf(pid);
  if (!cmdline.includes('pg_receivewal') || !cmdline.includes(spoolDir)) return undefined;
  process.kill(pid, 'SIGTERM');
  for (let waited = 0; waited < 10_000 && isAlive(pid) && commandLineOf(pid) !== ''; waited += 100) await sleep(100);
  if (isAlive(pid) && commandLineOf(pid) !== '') process.kill(pid, 'SIGKILL');
  return pid;
}

/** Start pg_receivewal on `slotName` into `spoolDir` and record its pid. It stops at the first error (-n). */
export function startReceiver(cluster: RuntimeCluster, spoolDir: string, signal: AbortSignal): PgToolProcess {
  const receiver = startPgTool(
    cluster,
    'pg_receivewal',
    ['--directory', spoolDir, '--slot', cluster.wal.slotName, '--no-loop', '--no-password', '--status-interval', '10', '--verbose'],
    { signal, stdout: 'ignore', applicationName: 'lifeboat-receivewal' },
  );
  if (receiver.child.pid !== undefined) writeFileSync(`${spoolDir}/${PID_FILE}`, `${receiver.child.pid}\n`);
  receiver.done.finally(() => rmSync(`${spoolDir}/${PID_FILE}`, { force: true })).catch(() => undefined);
  return receiver;
}
