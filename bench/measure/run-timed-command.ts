// Times a shell command (a raw tool or a pipe of them) with GNU time: wall seconds, CPU seconds of every process
// in it, and the largest single process's peak RSS. This is how the raw baselines are measured, in the same run.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One timed run of a command. */
export interface TimedCommand {
  /** The command as run by `bash -o pipefail -c`. */
  command: string;
  /** Measured here around the whole run (GNU time's %e only has 10 ms resolution). */
  wallSeconds: number;
  /** User + system CPU of the whole pipe, in seconds. */
  cpuSeconds: number;
  /** Peak RSS of the largest single process in the pipe, in bytes (GNU time %M). */
  peakRssBytes: number;
  /** What the command printed on stdout (most commands here redirect it to /dev/null). */
  stdout: string;
}

const GNU_TIME = '/usr/bin/time';

/** Runs `command` with bash (pipefail on) under GNU time; rejects with its stderr when it fails. */
export async function runTimedCommand(command: string, env: NodeJS.ProcessEnv = process.env): Promise<TimedCommand> {
  const dir = await mkdtemp(join(tmpdir(), 'lifeboat-bench-time-'));
  const timesPath = join(dir, 'time.txt');
  try {
    const started = performance.now();
    const child = spawn(GNU_TIME, ['-f', '%U %S %M', '-o', timesPath, 'bash', '-o', 'pipefail', '-c', command], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });
    const wallSeconds = (performance.now() - started) / 1000;
    if (code !== 0) throw new Error(`\`${command}\` failed with exit ${code}: ${stderr.trim().slice(-2000)}`);
    const [user, system, maxRssKiB] = (await readFile(timesPath, 'utf8')).trim().split('\n').at(-1)!.split(' ').map(Number);
    return { command, wallSeconds, cpuSeconds: user! + system!, peakRssBytes: maxRssKiB! * 1024, stdout };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Quotes `value` for a bash command line. */
export function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`;
}
