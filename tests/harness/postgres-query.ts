// One-shot SQL for tests: a fresh pg connection per call, so a query never trips over a pooled connection
// left dead by a restart or kill9(), and no idle client can emit an unhandled 'error' and crash the run.
import pg from 'pg';

/** A row as pg returns it: column name to parsed value. */
export type PostgresRow = Record<string, unknown>;

/** Connects with `config`, runs `sql` with `params`, disconnects, and returns the rows. */
export async function queryPostgres<R extends PostgresRow = PostgresRow>(
  config: pg.ClientConfig,
  sql: string,
  params: readonly unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionTimeoutMillis: 10_000, ...config });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const result = await client.query<R>(sql, [...params]);
    return result.rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A `postgresql://` URI with the user and password percent-encoded. */
export function formatPostgresUri(host: string, port: number, credentials: { user: string; password: string }, database: string): string {
  const auth = `${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.password)}`;
  return `postgresql://${auth}@${host}:${port}/${encodeURIComponent(database)}`;
}
