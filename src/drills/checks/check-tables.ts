// Every table the source had at D exists in the restored server, with a row count plausible against the
// source's statistics at D. Plausible, not equal: the primary's estimates trail its writes, and the rows a drill
// may lose are RPO's to measure, not this check's. Counted exactly on the scratch server (never on the primary
// unless the scenario asks), each count bounded by a statement timeout so a huge table is reported, not waited on.
import type { ScratchConnector } from '../scratch-client.js';
import type { SourceTable } from '../capture-disaster.js';
import type { CheckOutcome } from './timed-check.js';

/** A restored count within this fraction of the source's (plus the slack below) is plausible. */
const TOLERANCE = 0.2;
const SLACK_ROWS = 1000;
const COUNT_TIMEOUT_MS = 300_000;

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function isPlausibleCount(restored: number, expected: number, exact: boolean): boolean {
  const slack = (exact ? 0 : SLACK_ROWS) + Math.ceil(expected * TOLERANCE);
  return Math.abs(restored - expected) <= slack;
}

export async function checkTables(connector: ScratchConnector, database: string, tables: readonly SourceTable[]): Promise<CheckOutcome> {
  let client;
  try {
    client = await connector.connect(database);
  } catch (error) {
    return { outcome: 'failed', message: `database ${database} of the source is missing or unusable in the restored server`, details: String(error) };
  }
  try {
    await client.query(`set statement_timeout = ${COUNT_TIMEOUT_MS}`);
    const missing: string[] = [];
    const implausible: string[] = [];
    const uncounted: string[] = [];
    let counted = 0;
    let rows = 0;
    for (const table of tables) {
      const qualified = `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;
      const present = (await client.query<{ ok: boolean }>('select to_regclass($1) is not null as ok', [qualified])).rows[0]!.ok;
      if (!present) {
        missing.push(`${table.schema}.${table.name}`);
        continue;
      }
      const expected = table.exactRows ?? table.estimatedRows;
      if (table.kind === 'p' || table.unlogged || expected === undefined) continue;
      let restored: number;
      try {
        restored = Number((await client.query<{ n: string }>(`select count(*)::text as n from ${qualified}`)).rows[0]!.n);
      } catch {
        uncounted.push(`${table.schema}.${table.name}`);
        continue;
      }
      counted += 1;
      rows += restored;
      if (!isPlausibleCount(restored, expected, table.exactRows !== undefined)) implausible.push(`${table.schema}.${table.name}: ${restored} rows restored, ${expected} ${table.exactRows !== undefined ? 'counted' : 'estimated'} on the source at D`);
    }
    const details = [...missing.map((t) => `missing: ${t}`), ...implausible, ...uncounted.map((t) => `not counted within ${COUNT_TIMEOUT_MS / 1000} s: ${t}`)].join('\n');
    if (missing.length > 0 || implausible.length > 0) {
      return { outcome: 'failed', message: `${database}: ${missing.length} table(s) missing, ${implausible.length} with implausible row counts (of ${tables.length})`, details };
    }
    return { outcome: 'passed', message: `${database}: all ${tables.length} table(s) present; ${counted} counted (${rows} rows), each within ${TOLERANCE * 100}% of the source${uncounted.length ? `; ${uncounted.length} too large to count in time` : ''}`, ...(details ? { details } : {}) };
  } finally {
    await client.end().catch(() => undefined);
  }
}
