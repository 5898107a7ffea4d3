// pg_amcheck on one restored database: heap and B-tree checks (amcheck's verify_heapam and bt_index_check), the
// extension installed on the scratch server if missing. The restored server is the source's PostgreSQL major, so
// the drill host needs that major's pg_amcheck and amcheck extension (Debian's postgresql-<major> has both).
import { spawn } from 'node:child_process';
import { findPgTool } from '../../postgres/index.js';
import type { ScratchServer } from '../scratch-client.js';
import type { CheckOutcome } from './timed-check.js';

const OUTPUT_LIMIT_BYTES = 64 * 1024;

export interface AmcheckOptions {
  server: ScratchServer;
  superuser: string;
  database: string;
  heapallindexed: boolean;
  bindir?: string;
  signal: AbortSignal;
}

export async function runAmcheck(options: AmcheckOptions): Promise<CheckOutcome> {
  const tool = findPgTool('pg_amcheck', options.bindir);
  const args = ['-h', options.server.socketDir, '-p', String(options.server.port), '-U', options.superuser, '--no-password', '--install-missing', '--jobs=2', ...(options.heapallindexed ? ['--heapallindexed'] : []), '--database', options.database];
  const child = spawn(tool, args, { stdio: ['ignore', 'pipe', 'pipe'], signal: options.signal, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' } });
  let output = '';
  const collect = (chunk: Buffer): void => {
    if (output.length < OUTPUT_LIMIT_BYTES) output += chunk.toString('utf8');
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (exitCode) => resolve(exitCode));
  });
  const text = output.trim();
  if (code === 0 && text === '') return { outcome: 'passed', message: `${options.database}: pg_amcheck found no corruption in heap or B-tree indexes${options.heapallindexed ? ' (with --heapallindexed)' : ''}` };
  const first = text.split('\n').find((line) => line.trim() !== '') ?? `pg_amcheck exited ${code}`;
  return { outcome: 'failed', message: `${options.database}: pg_amcheck exited ${code}: ${first}`, details: text };
}
