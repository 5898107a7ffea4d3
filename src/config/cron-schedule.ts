// Cron expressions and time zones of the schedules: validated at load (so a typo is refused naming its field,
// not discovered at 01:00) and evaluated for display (`lifeboat status`). BullMQ's job schedulers use the same
// parser (cron-parser) to fire them, so what is accepted here is what runs.
import { createRequire } from 'node:module';
import type { CronExpressionParser as Parser } from 'cron-parser';

/**
 * cron-parser (and the date library under it, ~6 MB resident) loaded on first use: a config without schedules, as
 * on a host that only restores, never needs it.
 */
let parser: typeof Parser | undefined;
function cronParser(): typeof Parser {
  parser ??= (createRequire(import.meta.url)('cron-parser') as { CronExpressionParser: typeof Parser }).CronExpressionParser;
  return parser;
}

/** True when `timeZone` is an IANA zone this Node knows (e.g. `UTC`, `Europe/Paris`). */
export function isKnownTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Why `expression` is not a schedule Lifeboat accepts, or undefined when it is: 5 fields (minute precision) or 6
 * with leading seconds, every field in range, with at least one future run in `timeZone`.
 */
export function describeCronProblem(expression: string, timeZone: string): string | undefined {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    return `"${expression}" has ${fields.length} field(s); write 5 (minute hour day month weekday) or 6 (with leading seconds)`;
  }
  try {
    cronParser().parse(expression, { tz: timeZone, strict: false }).next();
    return undefined;
  } catch (error) {
    return `"${expression}" is not a valid cron expression: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** The next `count` run times of `expression` in `timeZone` after `from`. The expression must be valid. */
export function nextCronRuns(expression: string, timeZone: string, from: Date, count = 1): Date[] {
  const parsed = cronParser().parse(expression, { tz: timeZone, currentDate: from });
  const runs: Date[] = [];
  for (let i = 0; i < count; i++) runs.push(parsed.next().toDate());
  return runs;
}
