// Lifeboat for the vs-pgbackrest case, run the way an operator runs it: the `lifeboat` CLI (bin/lifeboat.js on
// the built dist/) as separate processes, `wal archive` in the background and `backup full` / `restore` in the
// foreground, so every Node start and every child it spawns is part of what is measured.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCli, type CliProcess, type CliResult } from '../../tests/harness/lifeboat-cli.js';
import type { LifeboatFixture } from '../../tests/harness/lifeboat-fixture.js';

export interface LifeboatCommands {
  fixture: LifeboatFixture;
  /** `lifeboat --config <fixture> args...` to completion; throws on a non-zero exit. `onSpawn` gets its pid. */
  run(args: readonly string[], options?: { timeoutMs?: number; onSpawn?: (pid: number) => void }): Promise<CliResult>;
  /** Starts `lifeboat wal archive` in the background (if it is not running). */
  startArchiver(): Promise<CliProcess>;
  /** Stops the background archiver gracefully (SIGTERM: it ships what it has first). */
  stopArchiver(): Promise<void>;
  /** Newest complete segment the running archiver has stored, from its state file. */
  lastArchivedSegment(): string | undefined;
}

export function createLifeboatCommands(fixture: LifeboatFixture, password: string): LifeboatCommands {
  const env: NodeJS.ProcessEnv = { FIXTURE_PGPASSWORD: password, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  // For finding where a command's time goes (not for the README): BENCH_CPU_PROF_DIR=/some/dir writes a V8 CPU
  // profile of every Lifeboat process (the restore_command's too: make the folder writable by the postgres user).
  const profileDir = process.env.BENCH_CPU_PROF_DIR;
  if (profileDir !== undefined && profileDir !== '') env.NODE_OPTIONS = `--cpu-prof --cpu-prof-dir=${profileDir}`;
  const statePath = join(fixture.dir, 'state', fixture.config.clusters[0]!.name, 'archiver-state.json');
  let archiver: CliProcess | undefined;
  const start = (args: readonly string[], timeoutMs: number): CliProcess => startCli(args, { configPath: fixture.configPath, cwd: fixture.dir, env, timeoutMs });
  return {
    fixture,
    async run(args, options = {}) {
      const cli = start(args, options.timeoutMs ?? 3_600_000);
      if (cli.child.pid !== undefined) options.onSpawn?.(cli.child.pid);
      const result = await cli.done;
      if (result.code !== 0) throw new Error(`lifeboat ${args.join(' ')} exited with ${result.code ?? result.signal}:\n${result.stderr.slice(-3000)}`);
      return result;
    },
    async startArchiver() {
      if (archiver !== undefined) return archiver;
      const started = start(['wal', 'archive'], 24 * 3_600_000);
      archiver = started;
      // Streaming has begun once it says so on stdout.
      const deadline = Date.now() + 120_000;
      while (!/streaming resumes|pg_receivewal restarted/.test(started.stdout())) {
        if (started.child.exitCode !== null) throw new Error(`lifeboat wal archive exited (${started.child.exitCode}):\n${started.stderr().slice(-3000)}`);
        if (Date.now() > deadline) throw new Error(`lifeboat wal archive did not start streaming within 120 s:\n${started.stderr().slice(-3000)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return started;
    },
    async stopArchiver() {
      const running = archiver;
      archiver = undefined;
      if (running === undefined) return;
      running.child.kill('SIGTERM');
      const result = await running.done;
      if (result.code !== 0) throw new Error(`lifeboat wal archive stopped with ${result.code ?? result.signal}:\n${result.stderr.slice(-3000)}`);
    },
    lastArchivedSegment() {
      try {
        return (JSON.parse(readFileSync(statePath, 'utf8')) as { lastArchivedSegment?: string }).lastArchivedSegment;
      } catch {
        // Between its write and rename, or not written yet.
        return undefined;
      }
    },
  };
}
