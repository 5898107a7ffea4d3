// The scenario's own SQL assertions on the restored server: each a query whose first column of its first row
// must be true. The query's error, or what it returned instead, is the finding.
import type { DrillAssertion } from '../drill-scenario.js';
import type { ScratchConnector } from '../scratch-client.js';
import type { CheckOutcome } from './timed-check.js';

export async function runAssertion(connector: ScratchConnector, assertion: DrillAssertion): Promise<CheckOutcome> {
  const client = await connector.connect(assertion.database);
  try {
    const result = await client.query({ text: assertion.sql, rowMode: 'array' });
    const value: unknown = (result.rows[0] as unknown[] | undefined)?.[0];
    if (value === true) return { outcome: 'passed', message: `${assertion.database}: holds` };
    return { outcome: 'failed', message: `${assertion.database}: returned ${JSON.stringify(value ?? null)} instead of true`, details: assertion.sql };
  } finally {
    await client.end().catch(() => undefined);
  }
}
