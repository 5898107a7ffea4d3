// The suite, demo and bench run on the Node LTS pinned as a dev dependency (npm puts node_modules/.bin first on
// PATH), not on whatever node the machine has: a Node past end of life makes the AWS SDK warn on every command.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
};

describe('node runtime', () => {
  it('is the pinned LTS', () => {
    expect(process.version).toBe(`v${pkg.devDependencies.node}`);
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(24);
  });

  it('meets the engines range users are told', () => {
    const minimum = /^>=(\d+)\.(\d+)/.exec(pkg.engines.node);
    expect(minimum).not.toBeNull();
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(Number(minimum![1]));
  });
});
