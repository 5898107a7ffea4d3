// The instant D a drill simulates the disaster at, read on the primary's clock, and what the primary held then:
// every table with the row estimate its statistics keep (read beside the restore, so it does not count against RTO). Nothing here scans a table on the
// primary unless the scenario asks for exact counts. A primary that cannot be reached is a real disaster too: the
// drill goes on with D on this host's clock and says so.
import type { Logger } from 'pino';
import type { RuntimeCluster } from '../config/index.js';
import { connectPostgres, type PgClient } from '../postgres/index.js';
import { describeError } from '../errors/index.js';

export interface SourceTable {
  database: string;
  schema: string;
  name: string;
  /** `r` table, `p` partitioned table (holds no rows itself). */
  kind: 'r' | 'p';
  /** Unlogged tables come back empty from any recovery: only their existence is checked. */
  unlogged: boolean;
  /** The primary's estimate at D (n_live_tup, else reltuples); undefined when never analyzed. */
  estimatedRows?: number;
  /** With `exactCounts`: count(*) on the primary at D. */
  exactRows?: number;
}

export interface DisasterPoint {
  /** D, ISO 8601 with zone. */
  time: string;
  /** `performance.now()` when D was read: RTO is measured on this host's monotonic clock from here. */
  monotonicMs: number;
  /** `primary` when D came from the primary's clock_timestamp(), `local` when the primary was unreachable. */
  clock: 'primary' | 'local';
  primaryError?: string;
  serverVersion?: string;
}

const TABLES_SQL = `
  select n.nspname as schema, c.relname as name, c.relkind as kind, c.relpersistence = 'u' as unlogged,
         coalesce(s.n_live_tup, case when c.reltuples >= 0 then c.reltuples::bigint end) as estimated
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    left join pg_stat_user_tables s on s.relid = c.oid
   where c.relkind in ('r', 'p') and c.relpersistence <> 't'
     and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_(toast|temp_)'
   order by 1, 2`;

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

async function readTables(client: PgClient, database: string, exactCounts: boolean): Promise<SourceTable[]> {
  const rows = (await client.query<{ schema: string; name: string; kind: 'r' | 'p'; unlogged: boolean; estimated: string | null }>(TABLES_SQL)).rows;
  const tables: SourceTable[] = [];
  for (const row of rows) {
    const table: SourceTable = { database, schema: row.schema, name: row.name, kind: row.kind, unlogged: row.unlogged };
    if (row.estimated !== null) table.estimatedRows = Number(row.estimated);
    if (exactCounts && row.kind === 'r') {
      const counted = await client.query<{ n: string }>(`select count(*)::text as n from ${quoteIdent(row.schema)}.${quoteIdent(row.name)}`);
      table.exactRows = Number(counted.rows[0]!.n);
    }
    tables.push(table);
  }
  return tables;
}

/** D on the primary's clock, first thing: everything after D counts against RTO. */
export async function captureDisaster(cluster: RuntimeCluster, log: Logger): Promise<DisasterPoint> {
  let client: PgClient;
  try {
    client = await connectPostgres(cluster.postgres, 'lifeboat drill');
  } catch (error) {
    log.warn({ error: describeError(error) }, "the primary is unreachable: D is read on this host's clock and the source's tables are not compared");
    return { time: new Date().toISOString(), monotonicMs: performance.now(), clock: 'local', primaryError: describeError(error) };
  }
  try {
    // As text with its microseconds (a JS Date keeps milliseconds): heartbeats are compared with D in PostgreSQL.
    const now = await client.query<{ d: string; version: string }>(`select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as d, current_setting('server_version') as version`);
    return { time: now.rows[0]!.d, monotonicMs: performance.now(), clock: 'primary', serverVersion: now.rows[0]!.version };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Every table of every database on the primary, with its row estimate; undefined when the primary is unreachable. */
export async function readSourceTables(cluster: RuntimeCluster, options: { exactCounts: boolean; log: Logger }): Promise<SourceTable[] | undefined> {
  let client: PgClient;
  try {
    client = await connectPostgres(cluster.postgres, 'lifeboat drill');
  } catch {
    return undefined;
  }
  try {
    const databases = (await client.query<{ datname: string }>('select datname from pg_database where datallowconn and not datistemplate order by 1')).rows.map((r) => r.datname);
    const tables: SourceTable[] = [];
    for (const database of databases) {
      if (database === cluster.postgres.dbname) {
        tables.push(...(await readTables(client, database, options.exactCounts)));
        continue;
      }
      const other = await connectPostgres({ ...cluster.postgres, dbname: database }, 'lifeboat drill').catch((error: unknown) => {
        options.log.warn({ database, error: describeError(error) }, 'cannot read the tables of a source database; the drill does not compare it');
        return undefined;
      });
      if (!other) continue;
      try {
        tables.push(...(await readTables(other, database, options.exactCounts)));
      } finally {
        await other.end().catch(() => undefined);
      }
    }
    return tables;
  } finally {
    await client.end().catch(() => undefined);
  }
}
