// The cost of one short command, which PostgreSQL pays once per WAL segment during recovery: starting the CLI
// (`lifeboat --version`, `pgbackrest version`) and fetching one archived segment (`lifeboat wal fetch`,
// `pgbackrest archive-get`), each timed with GNU time (wall ms, peak RSS), median of `runs`.
import { chownSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { postgresOsUser } from '../../tests/harness/run-as-postgres.js';
import { runTimedCommand, shellQuote, type TimedCommand } from '../measure/run-timed-command.js';
import { median } from '../measure/summarize-runs.js';
import type { Versus } from './versus-operations.js';

export interface SingleCommand {
  what: string;
  lifeboat: { command: string; wallMs: number; peakRssBytes: number };
  pgbackrest: { command: string; wallMs: number; peakRssBytes: number };
}

/** bin/lifeboat.js of this checkout (dist-bench/bench/versus -> the repository root). */
const LIFEBOAT_CLI = join(import.meta.dirname, '..', '..', '..', 'bin', 'lifeboat.js');

async function timeRuns(command: string, runs: number, env: NodeJS.ProcessEnv, before?: () => void): Promise<{ command: string; wallMs: number; peakRssBytes: number }> {
  const timed: TimedCommand[] = [];
  for (let run = 0; run < runs; run++) {
    before?.();
    timed.push(await runTimedCommand(command, env));
  }
  return { command, wallMs: median(timed.map((one) => one.wallSeconds * 1000)), peakRssBytes: median(timed.map((one) => one.peakRssBytes)) };
}

/** `segment`: a WAL segment both repositories hold. */
export async function measureSingleCommands(v: Versus, segment: string, runs: number): Promise<SingleCommand[]> {
  const outDir = join(v.dir, 'single-fetch');
  mkdirSync(outDir, { recursive: true, mode: 0o755 });
  const user = postgresOsUser();
  if (user !== undefined) chownSync(outDir, user.uid, user.gid);
  const outPath = join(outDir, segment);
  const clearOut = (): void => rmSync(outPath, { force: true });
  const env = { ...process.env, FIXTURE_PGPASSWORD: v.pg.lifeboat.password };
  const lifeboat = `${shellQuote(process.execPath)} ${shellQuote(LIFEBOAT_CLI)}`;
  const config = `--config ${shellQuote(v.lifeboat.fixture.configPath)}`;
  try {
    return [
      {
        what: 'CLI start (version)',
        lifeboat: await timeRuns(`${lifeboat} --version`, runs, env),
        pgbackrest: await timeRuns('pgbackrest version', runs, env),
      },
      {
        what: 'fetch one WAL segment',
        lifeboat: await timeRuns(`${lifeboat} ${config} wal fetch ${segment} ${shellQuote(outPath)}`, runs, env, clearOut),
        pgbackrest: await timeRuns(v.pgbackrest.commandLine('default', ['archive-get', segment, outPath]), runs, env, clearOut),
      },
    ];
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}
