// The drill as JSON: the result itself, checked against its schema first, so that a report file, the stored
// history and whatever reads them back all hold exactly the shape drill-result.ts defines, never a looser one.
import { LifeboatError } from '../../errors/index.js';
import { describeSchemaIssues } from '../../storage/index.js';
import { drillResultSchema, type DrillResult } from '../drill-result.js';

/**
 * `result` as pretty-printed JSON (2-space indent, trailing newline), after validating it. Throws LifeboatError
 * `internal` naming the first field that does not match the schema: the drill engine built a result it must not.
 */
export function formatDrillJson(result: DrillResult): string {
  const checked = drillResultSchema.safeParse(result);
  if (!checked.success) {
    throw new LifeboatError('internal', `the result of drill ${result.drillId} does not match its schema ${describeSchemaIssues(checked.error)}`, {
      hint: 'this is a bug in lifeboat; please report it with the drill\'s log',
      cause: checked.error,
    });
  }
  return `${JSON.stringify(checked.data, null, 2)}\n`;
}
