// deploy/prometheus/alerts.yaml is valid (`promtool check rules`) and its unit tests pass (`promtool test rules`
// deploy/prometheus/alerts.test.yaml: each alert firing and not firing, two daemons exporting the same series).
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
const DIR = resolve(REPO_ROOT, 'deploy', 'prometheus');

function promtool(args: string[]): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { cwd: DIR, encoding: 'utf8', timeout: 120_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}${run.error ? String(run.error) : ''}` };
}

beforeAll(() => {
  const ensured = spawnSync('bash', [resolve(REPO_ROOT, 'scripts', 'ensure-promtool.sh')], { encoding: 'utf8' });
  if (ensured.status !== 0) throw new Error(`promtool is missing and cannot be installed:\n${ensured.stderr}`);
}, 300_000);

describe('Prometheus alert rules', () => {
  it('pass promtool check rules', () => {
    const check = promtool(['check', 'rules', 'alerts.yaml']);
    expect(check.status, check.output).toBe(0);
    expect(check.output).toContain('SUCCESS: 7 rules found');
  });

  it('pass their promtool unit tests', () => {
    const test = promtool(['test', 'rules', 'alerts.test.yaml']);
    expect(test.status, test.output).toBe(0);
  }, 120_000);
});
