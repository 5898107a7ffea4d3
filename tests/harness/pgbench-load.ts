// Real pgbench load that leaves a record of what committed, for no-loss tests: back-to-back short, rate-limited
// pgbench runs of a custom script (-f) inserting one row per transaction into a table of ids, until stop(). The ids
// the server then holds are exactly the committed inserts (cross-checked against pgbench's own count of processed
// transactions), so a restore to the latest point must hold every one. A hook between runs may act on the server.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pgbench } from './lifeboat-fixture.js';
import type { PostgresServer } from './postgres.js';

export interface PgbenchLoadOptions {
  /** Folder the script file is written to. */
  dir: string;
  /** Table created for the ids (must not exist); default `committed_ids`. */
  table?: string;
  /** pgbench -c; default 2. */
  clients?: number;
  /** pgbench -R: transactions per second over all clients; default 50. */
  ratePerSecond?: number;
  /** pgbench -T of each run, in seconds; default 2. */
  runSeconds?: number;
  /** Awaited after every run (e.g. a pg_switch_wal()); a failure ends the load and stop() rethrows it. */
  betweenRuns?: () => Promise<unknown>;
}

export interface PgbenchLoadResult {
  runs: number;
  /** Transactions pgbench reported processed, summed over the runs: each inserted one row. */
  transactions: number;
  /** The table's ids on the server once the last run ended, ascending: the committed inserts. */
  committedIds: number[];
}

export interface PgbenchLoad {
  /** The table holding the ids. */
  readonly table: string;
  /** Runs completed so far. */
  runs(): number;
  /** Ends the load after the current run and reports it; rethrows the failure of a run or of `betweenRuns`. */
  stop(): Promise<PgbenchLoadResult>;
}

/** Transactions one pgbench run processed; throws when it reports failed transactions. */
export function parsePgbenchProcessed(stdout: string): number {
  const processed = /number of transactions actually processed: (\d+)/.exec(stdout)?.[1];
  if (processed === undefined) throw new Error(`pgbench printed no transaction count:\n${stdout}`);
  const failed = Number(/number of failed transactions: (\d+)/.exec(stdout)?.[1] ?? 0);
  if (failed > 0) throw new Error(`pgbench reported ${failed} failed transactions:\n${stdout}`);
  return Number(processed);
}

/** Creates the table and starts the first run; the load runs in the background until stop(). */
export async function startPgbenchLoad(pg: PostgresServer, options: PgbenchLoadOptions): Promise<PgbenchLoad> {
  const table = options.table ?? 'committed_ids';
  await pg.query(`create table ${table} (id bigserial primary key, client_id int not null, payload text not null)`);
  const script = join(options.dir, `${table}.pgbench.sql`);
  writeFileSync(
    script,
    ['\\set n random(1, 1000000000)', `insert into ${table} (client_id, payload) values (:client_id, repeat(md5(:n::text), 8));`, ''].join('\n'),
  );
  const args = ['-n', '-M', 'prepared', '-f', script, '-c', String(options.clients ?? 2), '-R', String(options.ratePerSecond ?? 50), '-T', String(options.runSeconds ?? 2)];
  let running = true;
  let runs = 0;
  let transactions = 0;
  const loop = (async () => {
    while (running) {
      const { stdout } = await pgbench(pg, args, 60_000);
      transactions += parsePgbenchProcessed(stdout);
      runs += 1;
      await options.betweenRuns?.();
    }
  })();
  // A failure is reported by stop(); until then it must not be an unhandled rejection.
  loop.catch(() => undefined);
  return {
    table,
    runs: () => runs,
    async stop() {
      running = false;
      await loop;
      const rows = await pg.query<{ id: string }>(`select id::text as id from ${table} order by id`);
      return { runs, transactions, committedIds: rows.map((row) => Number(row.id)) };
    },
  };
}
