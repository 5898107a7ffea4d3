// The machine and tool versions a run was measured on, printed at the top and stored in the results file:
// numbers from different hosts are not comparable.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { findPostgresBindir } from '../../tests/harness/postgres-binaries.js';

export interface HostInfo {
  cpuModel: string;
  cpus: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  zstd: string;
  gzip: string;
  postgres: string;
}

function firstLine(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0]!.trim();
  } catch {
    return 'unknown';
  }
}

export function describeHost(): HostInfo {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const bindir = findPostgresBindir();
  return {
    cpuModel: /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    cpus: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
    kernel: firstLine('uname', ['-r']),
    node: process.version,
    zstd: firstLine('zstd', ['--version']).replace(/^\*+\s*|\s*\*+$/g, ''),
    gzip: firstLine('gzip', ['--version']),
    postgres: bindir ? firstLine(`${bindir}/postgres`, ['--version']) : 'not found',
  };
}

export function formatHost(host: HostInfo): string {
  return `host: ${host.cpuModel}, ${host.cpus} CPUs, ${host.memoryGiB} GiB RAM, Linux ${host.kernel}; node ${host.node}; ${host.zstd}; ${host.gzip}; ${host.postgres}`;
}
