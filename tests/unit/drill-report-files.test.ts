// Writing a drill's report files (`drill run --junit/--json/--markdown`): each appears whole (temp file, rename),
// the JSON is the result itself and reads back through the schema, and a failure names the file and leaves
// nothing behind: no partial report, no temp file.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { drillResultSchema, type DrillResult } from '../../src/drills/drill-result.js';
import { writeDrillReports } from '../../src/drills/report/write-drill-reports.js';
import { isLifeboatError, type LifeboatError } from '../../src/errors/index.js';
import { buildDrillResult } from '../harness/drill-results.js';
import { ensureJunitparser, readJunitFiles } from '../harness/junit-reader.js';

let dir: string;

async function rejection(promise: Promise<unknown>): Promise<LifeboatError> {
  const error: unknown = await promise.then(() => undefined, (reason: unknown) => reason);
  if (!isLifeboatError(error)) throw new Error(`expected a LifeboatError, got ${String(error)}`);
  return error;
}

beforeAll(() => ensureJunitparser(), 600_000);
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-reports-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('drill report files', () => {
  it('writes JUnit, JSON and Markdown, each readable by what consumes it', async () => {
    const result = buildDrillResult({ rtoTargetSeconds: 1 });
    const files = { junit: join(dir, 'drill.xml'), json: join(dir, 'drill.json'), markdown: join(dir, 'drill.md') };
    expect(await writeDrillReports(result, files)).toEqual([files.junit, files.json, files.markdown]);
    expect(drillResultSchema.parse(JSON.parse(readFileSync(files.json, 'utf8')))).toEqual(result);
    const [junit] = readJunitFiles([files.junit]);
    expect(junit!.root).toMatchObject({ tests: 7, failures: 1, errors: 0 });
    expect(readFileSync(files.markdown, 'utf8').split('\n')[0]).toBe('# Restore drill FAILED: main, latest');
    expect(readdirSync(dir).sort()).toEqual(['drill.json', 'drill.md', 'drill.xml']);
  });

  it('replaces an existing report whole', async () => {
    const path = join(dir, 'drill.json');
    writeFileSync(path, 'old report');
    await writeDrillReports(buildDrillResult(), { json: path });
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ outcome: 'passed' });
  });

  it('names the file it cannot write and leaves no temp file', async () => {
    const error = await rejection(writeDrillReports(buildDrillResult(), { json: join(dir, 'missing', 'drill.json') }));
    expect(error.code).toBe('storageUnavailable');
    expect(error.message).toBe(`cannot create a file next to ${join(dir, 'missing', 'drill.json')}: ENOENT`);
    mkdirSync(join(dir, 'ro'), { mode: 0o500 });
    if (process.getuid?.() !== 0) {
      const denied = await rejection(writeDrillReports(buildDrillResult(), { junit: join(dir, 'ro', 'drill.xml') }));
      expect(denied.hint).toContain('writable');
    }
    expect(readdirSync(dir)).toEqual(['ro']);
    expect(readdirSync(join(dir, 'ro'))).toEqual([]);
  });

  it('refuses two formats in one file, and a result that does not match its schema, writing nothing', async () => {
    const path = join(dir, 'report');
    const clash = await rejection(writeDrillReports(buildDrillResult(), { junit: path, markdown: path }));
    expect(clash.code).toBe('usage');
    expect(clash.message).toBe(`--junit and --markdown both name ${path}`);
    const broken = { ...buildDrillResult(), rto: { seconds: -1, phases: {} } } as DrillResult;
    const invalid = await rejection(writeDrillReports(broken, { junit: join(dir, 'a.xml'), json: join(dir, 'a.json') }));
    expect(invalid.code).toBe('internal');
    expect(invalid.message).toContain('does not match its schema at rto.seconds');
    expect(readdirSync(dir)).toEqual([]);
  });
});
