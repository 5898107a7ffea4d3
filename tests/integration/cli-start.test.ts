// What the CLI loads before it does anything: `lifeboat --version` answers without a single package from
// node_modules (commander alone costs ~10 MB), and `wal fetch`, which PostgreSQL may start once per WAL segment,
// never loads the AWS SDK, the Encryption SDK or pg before it needs them. Packages are listed by a module resolve
// hook in the child, so the test checks what was loaded, not a timing that another process could disturb.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const CLI = join(process.cwd(), 'bin', 'lifeboat.js');
const HOOK = `
import { registerHooks } from 'node:module';
registerHooks({ resolve(specifier, context, next) {
  const result = next(specifier, context);
  const match = /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(result.url);
  if (match) process.stderr.write('loaded-package ' + match[1] + '\\n');
  return result;
} });`;

function loadedPackages(...args: string[]): { code: number | null; stdout: string; packages: Set<string> } {
  const run = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(HOOK)}`, CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, LIFEBOAT_CONFIG: '/nonexistent/lifeboat.yaml' },
    timeout: 60_000,
  });
  const packages = new Set(run.stderr.split('\n').flatMap((line) => (line.startsWith('loaded-package ') ? [line.slice('loaded-package '.length)] : [])));
  return { code: run.status, stdout: run.stdout, packages };
}

describe('CLI start-up', () => {
  it('--version loads no package', () => {
    const run = loadedPackages('--version');
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect([...run.packages]).toEqual([]);
  });

  it('wal fetch --help loads neither the AWS SDK, the Encryption SDK nor pg', () => {
    const run = loadedPackages('wal', 'fetch', '--help');
    expect(run.code).toBe(0);
    expect(run.packages.has('commander')).toBe(true);
    const heavy = [...run.packages].filter((name) => name.startsWith('@aws-sdk/') || name.startsWith('@aws-crypto/') || name === 'pg' || name === 'bullmq' || name === 'ioredis');
    expect(heavy).toEqual([]);
  });
});
