// A drill scenario: what disaster to simulate and what to prove afterwards, read from a YAML file in drills/ and
// validated like the config (unknown keys named, with a suggestion). Without --scenario a drill runs the built-in
// `latest` scenario, the same as drills/latest.yaml.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { formatConfigIssues } from '../config/format-config-issues.js';
import { LifeboatError } from '../errors/index.js';

const assertionSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'assertion names are 1-63 characters of a-z, 0-9, "_" and "-"'),
  database: z.string().min(1).describe('Database the SQL runs in, on the restored server.'),
  sql: z.string().min(1).describe('A query whose first column of its first row is true when the assertion holds.'),
});

export const drillScenarioSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'scenario names are 1-63 characters of a-z, 0-9, "_" and "-"'),
  description: z.string().optional(),
  /** Where the restore reads from: the primary repository, or a replica region (by its name). */
  source: z.string().min(1).default('primary'),
  /**
   * What to restore: the newest point (`latest`), a random instant inside the recoverable window
   * (`random-time`), or a fixed time, LSN or named restore point.
   */
  target: z
    .union([z.literal('latest'), z.literal('random-time'), z.strictObject({ time: z.string() }), z.strictObject({ lsn: z.string() }), z.strictObject({ name: z.string() })])
    .default('latest'),
  /**
   * Read one stored object through an overlay that alters a byte of it (never by touching the repository): the
   * drill must then fail naming that object, and never restore wrong data.
   */
  corrupt: z.strictObject({ object: z.literal('base-part'), partNumber: z.number().int().min(1).default(1) }).optional(),
  checks: z
    .strictObject({
      amcheck: z
        .strictObject({
          enabled: z.boolean().default(true),
          /** Databases to check; default every database that accepts connections. */
          databases: z.array(z.string().min(1)).optional(),
          /** pg_amcheck --heapallindexed: every heap tuple has its index entry (slower). */
          heapallindexed: z.boolean().default(false),
        })
        .default({ enabled: true, heapallindexed: false }),
      tables: z
        .strictObject({
          enabled: z.boolean().default(true),
          /** Count rows exactly on the source too (a full scan of every table on the primary): off by default. */
          exactCounts: z.boolean().default(false),
        })
        .default({ enabled: true, exactCounts: false }),
      assertions: z.array(assertionSchema).default([]),
    })
    .default({ amcheck: { enabled: true, heapallindexed: false }, tables: { enabled: true, exactCounts: false }, assertions: [] }),
  /** Longest the restore may run before the drill gives up (seconds); a drill should fail, not hang. */
  timeoutSeconds: z.number().int().positive().default(4 * 3600),
});

export type DrillScenario = z.output<typeof drillScenarioSchema>;
export type DrillAssertion = z.output<typeof assertionSchema>;

/** The scenario a drill runs without --scenario: restore the newest point from the primary repository. */
export const LATEST_SCENARIO: DrillScenario = drillScenarioSchema.parse({ name: 'latest', description: 'Restore the newest recoverable point from the primary repository.' });

function keysAt(path: readonly PropertyKey[]): readonly string[] {
  let shape: z.ZodType = drillScenarioSchema;
  for (const key of path) {
    const unwrapped = shape instanceof z.ZodDefault || shape instanceof z.ZodOptional ? (shape.unwrap() as z.ZodType) : shape;
    if (!(unwrapped instanceof z.ZodObject)) return [];
    const next = (unwrapped.shape as Record<string, z.ZodType>)[String(key)];
    if (!next) return [];
    shape = next;
  }
  const unwrapped = shape instanceof z.ZodDefault || shape instanceof z.ZodOptional ? (shape.unwrap() as z.ZodType) : shape;
  return unwrapped instanceof z.ZodObject ? Object.keys(unwrapped.shape as object) : [];
}

/** Validate a parsed scenario; `source` names it in errors. */
export function parseDrillScenario(value: unknown, source: string): DrillScenario {
  const result = drillScenarioSchema.safeParse(value);
  if (result.success) return result.data;
  const lines = formatConfigIssues(result.error.issues, keysAt);
  throw new LifeboatError('config', `invalid drill scenario in ${source}:\n  ${lines.join('\n  ')}`, {
    hint: 'fix the fields named above; drills/README.md describes every key of a scenario',
  });
}

/** Read and validate a scenario file. */
export function loadDrillScenario(path: string): DrillScenario & { file: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new LifeboatError('config', `cannot read drill scenario ${path}`, { hint: 'pass --scenario with a file from drills/ (e.g. drills/latest.yaml) or your own', cause: error });
  }
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new LifeboatError('config', `drill scenario ${path} is not valid YAML: ${document.errors.map((e) => e.message).join('; ')}`, { hint: 'fix the YAML syntax at the line shown' });
  }
  return { ...parseDrillScenario(document.toJS() ?? {}, path), file: basename(path) };
}
