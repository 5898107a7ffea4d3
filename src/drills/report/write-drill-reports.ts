// Writes a drill's reports to the files named by `drill run --junit/--json/--markdown`: all three are formatted
// first (so a result that fails its schema writes nothing), then each file appears whole or not at all (a temp
// file next to it, renamed), so a CI job publishing the report never reads half of one.
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import { LifeboatError } from '../../errors/index.js';
import { writeFileAtomic } from '../../restore/wal-fetch/atomic-file.js';
import type { DrillResult } from '../drill-result.js';
import { formatDrillJson } from './format-drill-json.js';
import { formatDrillJunit } from './format-drill-junit.js';
import { formatDrillMarkdown } from './format-drill-markdown.js';

/** The report files to write; the names match `drill run`'s options, so its parsed options can be passed as is. */
export interface DrillReportFiles {
  /** JUnit XML (`--junit FILE`). */
  junit?: string | undefined;
  /** The result as JSON (`--json FILE`). */
  json?: string | undefined;
  /** The human report (`--markdown FILE`). */
  markdown?: string | undefined;
}

const FORMATS = {
  junit: (result: DrillResult) => formatDrillJunit([result]),
  json: formatDrillJson,
  markdown: formatDrillMarkdown,
} as const satisfies Record<keyof DrillReportFiles, (result: DrillResult) => string>;

/**
 * Writes each report named in `files` (paths relative to the working directory); returns the absolute paths
 * written, in the order junit, json, markdown. Throws LifeboatError `usage` when two formats name one file,
 * `storageUnavailable` naming the path when a file cannot be written (a missing folder, no space, no permission),
 * `internal` when the result does not match its schema. A failed write leaves no partial file behind.
 */
export async function writeDrillReports(result: DrillResult, files: DrillReportFiles, signal?: AbortSignal): Promise<string[]> {
  const planned: { format: keyof DrillReportFiles; path: string; text: string }[] = [];
  for (const format of Object.keys(FORMATS) as (keyof DrillReportFiles)[]) {
    const file = files[format];
    if (file === undefined) continue;
    const path = resolve(file);
    const clash = planned.find((other) => other.path === path);
    if (clash) {
      throw new LifeboatError('usage', `--${clash.format} and --${format} both name ${path}`, { hint: 'give each report its own file' });
    }
    planned.push({ format, path, text: FORMATS[format](result) });
  }
  for (const { path, text } of planned) {
    await writeFileAtomic({ path, source: Readable.from([Buffer.from(text, 'utf8')]), durable: true, ...(signal ? { signal } : {}) });
  }
  return planned.map(({ path }) => path);
}
