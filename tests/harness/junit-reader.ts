// Reads JUnit XML through junitparser from PyPI, in the project's test virtualenv (scripts/ensure-moto.sh installs
// it): the drill report is checked by an independent JUnit consumer, the way CI systems read it, not by matching
// strings in the XML we wrote ourselves.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
const PYTHON = resolve(REPO_ROOT, '.venv-moto', 'bin', 'python');
const SCRIPT = resolve(import.meta.dirname, 'read-junit.py');

export interface JunitCounts {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
}

export interface JunitCaseResult {
  /** `failure`, `error` or `skipped`. */
  kind: string;
  message: string | null;
  type: string | null;
  text: string | null;
}

export interface JunitCase {
  name: string;
  classname: string;
  time: number;
  outcome: 'passed' | 'failure' | 'error' | 'skipped';
  results: JunitCaseResult[];
  systemOut: string | null;
}

export interface JunitSuite {
  name: string;
  time: number;
  timestamp: string | null;
  hostname: string | null;
  /** As the suite's attributes say. */
  declared: JunitCounts;
  /** As junitparser counts its test cases. */
  recomputed: JunitCounts;
  properties: Record<string, string>;
  cases: JunitCase[];
}

export interface JunitFile {
  path: string;
  root: JunitCounts & { time: number };
  suites: JunitSuite[];
}

/** Installs the virtualenv (moto, junitparser) when it is missing or lacks junitparser. Throws when it cannot. */
export function ensureJunitparser(): void {
  const has = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import junitparser'], { encoding: 'utf8' }).status === 0;
  if (has) return;
  const ensured = spawnSync('bash', [resolve(REPO_ROOT, 'scripts', 'ensure-moto.sh')], { encoding: 'utf8', timeout: 600_000 });
  if (ensured.status !== 0) throw new Error(`junitparser is missing and scripts/ensure-moto.sh could not install it:\n${ensured.stderr}`);
}

/** Parses `paths` with junitparser; throws with Python's error when a file is not JUnit XML it can read. */
export function readJunitFiles(paths: readonly string[]): JunitFile[] {
  const run = spawnSync(PYTHON, [SCRIPT, ...paths], { encoding: 'utf8', timeout: 60_000 });
  if (run.status !== 0) throw new Error(`junitparser could not read ${paths.join(', ')}:\n${run.stderr}${run.error ? String(run.error) : ''}`);
  return JSON.parse(run.stdout) as JunitFile[];
}
