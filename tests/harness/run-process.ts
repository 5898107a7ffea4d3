// Runs a short-lived command to completion and returns its output; on failure the error names the command,
// its exit status and the tail of its output, so a broken initdb or pg_ctl explains itself in the test log.
import { spawn } from 'node:child_process';

/** How to run a command; all optional. */
export interface RunProcessOptions {
  cwd?: string;
  /** Replaces the environment entirely when given (merge with process.env yourself). */
  env?: NodeJS.ProcessEnv;
  /** Run as this OS user id / group id (the caller must be root). */
  uid?: number;
  gid?: number;
  /** Kill the command (SIGKILL) and reject after this many milliseconds. Default: 120 000. */
  timeoutMs?: number;
  /** Written to the command's stdin, which is then closed. */
  input?: string;
}

/** Output of a command that exited with status 0. */
export interface RunProcessResult {
  stdout: string;
  stderr: string;
}

/** The last `count` non-empty lines of `text`, for error messages. */
export function tailLines(text: string, count = 20): string {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(-count)
    .join('\n');
}

/** Runs `command args...`; resolves with its output on exit status 0, rejects otherwise. */
export function runProcess(command: string, args: readonly string[], options: RunProcessOptions = {}): Promise<RunProcessResult> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      uid: options.uid,
      gid: options.gid,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const describe = `${command} ${args.join(' ')}`;
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`could not run ${describe}: ${error.message}`, { cause: error }));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) {
        resolve({ stdout, stderr });
        return;
      }
      const status = signal === null ? `exit status ${code}` : `signal ${signal} (timeout ${timeoutMs} ms?)`;
      const output = tailLines(`${stdout}\n${stderr}`);
      reject(new Error(`command failed with ${status}: ${describe}\n${output}`));
    });
  });
}
