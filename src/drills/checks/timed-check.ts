// Runs one drill check, timed on its own (a check is not part of RTO), and turns whatever it throws into a failed
// result naming the error: one broken check must not hide the others' findings.
import { describeError } from '../../errors/index.js';
import type { DrillCheckResult } from '../drill-result.js';

export type CheckOutcome = Omit<DrillCheckResult, 'name' | 'durationMs'>;

export async function timedCheck(name: string, body: () => Promise<CheckOutcome>): Promise<DrillCheckResult> {
  const started = performance.now();
  let outcome: CheckOutcome;
  try {
    outcome = await body();
  } catch (error) {
    outcome = { outcome: 'failed', message: `the check could not run: ${describeError(error)}` };
  }
  return { name, durationMs: Math.round(performance.now() - started), ...outcome };
}
