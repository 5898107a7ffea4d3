// The drill's JUnit report as a CI system reads it: every file here is parsed by junitparser (PyPI), an independent
// JUnit consumer, and its counts, failing case names, times and messages are checked from what it understood.
// Text from the database or an error message must never make the XML unreadable (control characters, markup).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideDrillOutcome, type DrillResult } from '../../src/drills/drill-result.js';
import { formatDrillJunit } from '../../src/drills/report/format-drill-junit.js';
import { buildDrillResult, buildFailedToRunDrillResult } from '../harness/drill-results.js';
import { ensureJunitparser, readJunitFiles, type JunitFile } from '../harness/junit-reader.js';

let dir: string;
let fileCount = 0;

/** Writes the JUnit of `results` to a file and reads it back with junitparser. */
function junitOf(...results: DrillResult[]): JunitFile {
  const path = join(dir, `report-${++fileCount}.xml`);
  writeFileSync(path, formatDrillJunit(results));
  return readJunitFiles([path])[0]!;
}

beforeAll(() => {
  ensureJunitparser();
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-junit-'));
}, 600_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('drill JUnit report', () => {
  it('has one case per target and check, counts that match them, and times in seconds', () => {
    const result = buildDrillResult();
    const [suite, ...others] = junitOf(result).suites;
    expect(others).toEqual([]);
    expect(suite!.declared).toEqual({ tests: 7, failures: 0, errors: 0, skipped: 1 });
    expect(suite!.recomputed).toEqual(suite!.declared);
    expect(suite!.cases.map((c) => `${c.classname} ${c.name} ${c.outcome}`)).toEqual([
      'lifeboat.drill.targets rpo passed',
      'lifeboat.drill.targets rto passed',
      'lifeboat.drill.checks amcheck:postgres passed',
      'lifeboat.drill.checks tables:postgres passed',
      'lifeboat.drill.checks isolation passed',
      'lifeboat.drill.checks assertion:accounts-not-empty passed',
      'lifeboat.drill.checks extensions skipped',
    ]);
    // durationMs 3120 is 3.12 s; the suite lasts from start to finish (47.3 s).
    expect(suite!.cases.find((c) => c.name === 'amcheck:postgres')!.time).toBeCloseTo(3.12, 3);
    expect(suite!.time).toBeCloseTo(47.3, 3);
    expect(suite!.timestamp).toBe(result.startedTime);
    expect(suite!.hostname).toBe('drill-host-1');
    expect(suite!.cases.find((c) => c.name === 'rto')!.systemOut).toBe('RTO: measured 41.9 s, target 14400 s: within the target');
    expect(suite!.cases.find((c) => c.name === 'extensions')!.results[0]!.message).toBe('skipped: the source uses no extension library');
    expect(suite!.properties).toMatchObject({ drillId: result.drillId, cluster: 'main', outcome: 'passed', 'rto.seconds': '41.85', 'rto.replaySeconds': '30.1', backupId: '20261129T120000Z-F' });
  });

  it('names exactly the RTO case as failed when RTO misses its target, with measured value and target', () => {
    const file = junitOf(buildDrillResult({ rtoTargetSeconds: 1 }));
    const suite = file.suites[0]!;
    expect(file.root).toMatchObject({ tests: 7, failures: 1, errors: 0, skipped: 1 });
    expect(suite.recomputed).toEqual(suite.declared);
    const failing = suite.cases.filter((c) => c.outcome !== 'passed' && c.outcome !== 'skipped');
    expect(failing.map((c) => c.name)).toEqual(['rto']);
    const failure = failing[0]!.results[0]!;
    expect(failure).toMatchObject({ kind: 'failure', type: 'target', message: 'RTO: measured 41.9 s, target 1 s: exceeds the target by 40.85 s' });
    // The body says where the time went.
    expect(failure.text).toBe('plan: 0.62 s\nfetchBase: 9.4 s\nreplay: 30.1 s\npromote: 1.73 s\ntotal: 41.9 s');
  });

  it('reports a drill that could not run as one `drill` case with an error naming the code', () => {
    const suite = junitOf(buildFailedToRunDrillResult()).suites[0]!;
    expect(suite.declared).toEqual({ tests: 1, failures: 0, errors: 1, skipped: 0 });
    expect(suite.recomputed).toEqual(suite.declared);
    const [drill] = suite.cases;
    expect(drill).toMatchObject({ name: 'drill', outcome: 'error' });
    expect(drill!.results[0]).toMatchObject({ kind: 'error', type: 'storageUnavailable' });
    expect(drill!.results[0]!.message).toBe('storageUnavailable: listing "clusters/main/backups/" in s3://drills/repo/ failed: connect ECONNREFUSED 127.0.0.1:9');
    expect(drill!.results[0]!.text).toContain('HINT: check that the repository is reachable, then retry');
    expect(suite.properties.errorCode).toBe('storageUnavailable');
  });

  it('keeps markup, quotes, line breaks and emoji, and shows characters XML cannot hold instead of breaking', () => {
    const base = buildDrillResult();
    const hostile = 'table "a&b" <script>alert(1)</script> ]]> it\'s\tdone\nline two\r\nNUL:\u0000 ESC:\u001b[31m lone:\ud800 end:\uffff 🚣';
    const result: DrillResult = {
      ...base,
      host: 'host <&>"\'',
      checks: [
        ...base.checks,
        { name: 'assertion:<weird> & "quoted"', outcome: 'failed', durationMs: 1, message: hostile, details: `pg_amcheck said:\n${hostile}` },
      ],
    };
    const checked = { ...result, outcome: decideDrillOutcome(result) };
    const suite = junitOf(checked).suites[0]!;
    expect(suite.hostname).toBe('host <&>"\'');
    const weird = suite.cases.find((c) => c.name === 'assertion:<weird> & "quoted"')!;
    const shown = 'table "a&b" <script>alert(1)</script> ]]> it\'s\tdone\nline two\r\nNUL:\\x00 ESC:\\x1b[31m lone:\\ud800 end:\\uffff 🚣';
    expect(weird.results[0]!.message).toBe(shown);
    // Element text: the XML parser normalises \r\n to \n, as it must.
    expect(weird.results[0]!.text).toBe(`pg_amcheck said:\n${shown.replace('\r\n', '\n')}`);
    expect(suite.declared).toMatchObject({ tests: 8, failures: 1 });
  });

  it('holds one suite per drill, with totals over all of them', () => {
    const file = junitOf(buildDrillResult(), buildDrillResult({ cluster: 'other', rtoTargetSeconds: 1 }), buildFailedToRunDrillResult());
    expect(file.suites.map((s) => s.name)).toEqual(['lifeboat drill main latest', 'lifeboat drill other latest', 'lifeboat drill main latest']);
    expect(file.root).toMatchObject({ tests: 15, failures: 1, errors: 1, skipped: 2 });
  });
});
