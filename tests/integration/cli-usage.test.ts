// Commander's own errors through the real CLI (bin/lifeboat.js, the compiled dist/): printed like every lifeboat
// error, `error[usage]: ...` and a HINT naming the help to read, exit 64; --version and --help still exit 0.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const CLI = join(process.cwd(), 'bin', 'lifeboat.js');

function lifeboat(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, LIFEBOAT_CONFIG: '/nonexistent/lifeboat.yaml' }, timeout: 60_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('commander errors', () => {
  it.each([
    [['restore', '--latest'], "error[usage]: required option '--target-dir <dir>' not specified", 'HINT: run `lifeboat restore --help` for usage'],
    [['backup', 'full', '--bogus'], "error[usage]: unknown option '--bogus'", 'HINT: run `lifeboat backup full --help` for usage'],
    [['-c', 'x.yaml', 'bakup'], "error[usage]: unknown command 'bakup'", 'HINT: did you mean backup? Or run `lifeboat --help` for usage'],
    [['backup', 'fulll'], "error[usage]: unknown command 'fulll'", 'HINT: did you mean full? Or run `lifeboat backup --help` for usage'],
    [['restore-point'], "error[usage]: missing required argument 'name'", 'HINT: run `lifeboat restore-point --help` for usage'],
    [['verify', 'extra'], "error[usage]: too many arguments for 'verify'", 'HINT: run `lifeboat verify --help` for usage'],
  ])('lifeboat %j prints error[usage] with a HINT and exits 64', (args, error, hint) => {
    const run = lifeboat(...args);
    expect(run.code).toBe(64);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain(error);
    expect(lines[1]).toBe(hint);
  });

  it('--version and --help exit 0 on stdout', () => {
    const version = lifeboat('--version');
    expect(version).toMatchObject({ code: 0, stderr: '' });
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    const help = lifeboat('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: lifeboat');
    expect(help.stdout).toContain('restore [options]');
    expect(lifeboat('restore', '--help').stdout).toContain('--target-dir <dir>');
  });
});
