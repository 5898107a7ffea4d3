// The daemon's configuration: schedules, Redis and placement are validated at load; a bad cron expression or an
// unknown time zone is refused naming its field, and the Redis password is a secret reference like any other.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, nextCronRuns, readConfigFile, Secret } from '../../src/config/index.js';
import { isLifeboatError } from '../../src/errors/index.js';

function writeConfig(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-jobs-config-'));
  const path = join(dir, 'lifeboat.yaml');
  writeFileSync(path, text);
  return path;
}

const config = (schedules: string, extra = ''): string => `
clusters:
  - name: main
    postgres: { host: 127.0.0.1, user: lifeboat }
    schedules: ${schedules}
repository: { driver: fs, path: ./repo }
encryption: { provider: local, keyFile: ./key }
${extra}
`;

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (isLifeboatError(error, 'config')) return error.message;
    throw error;
  }
  throw new Error('expected a config error');
}

describe('daemon configuration', () => {
  it('accepts 5- and 6-field schedules and fills the daemon defaults', () => {
    const loaded = loadConfig(
      writeConfig(config('{ full: "0 1 * * *", incr: "*/10 * * * * *" }', 'redis: { url: "redis://127.0.0.1:6379/0", password: { env: REDIS_PW } }')),
      { REDIS_PW: 'redis-secret-value' },
    );
    expect(loaded.clusters[0]!.schedules).toEqual({ full: '0 1 * * *', incr: '*/10 * * * * *' });
    expect(loaded.daemon).toEqual({ listen: '127.0.0.1:9187', shutdownTimeoutSeconds: 60, lockLeaseSeconds: 30, archiverLeaseSeconds: 15, jobs: ['full', 'diff', 'incr', 'verify'] });
    expect(loaded.schedules).toEqual({ timezone: 'UTC' });
    expect(loaded.redis?.prefix).toBe('lifeboat');
    expect(loaded.redis?.password).toBeInstanceOf(Secret);
    expect(JSON.stringify(loaded)).not.toContain('redis-secret-value');
  });

  it('refuses an invalid cron expression, naming the field', () => {
    const message = configError(() => readConfigFile(writeConfig(config('{ full: "61 * * * *", verify: "* * *" }'))));
    expect(message).toContain('clusters[0].schedules.full');
    expect(message).toMatch(/61/);
    expect(message).toContain('clusters[0].schedules.verify');
    expect(message).toContain('3 field(s)');
  });

  it('refuses an unknown time zone, naming the field', () => {
    const message = configError(() => readConfigFile(writeConfig(config('{ full: "0 1 * * *" }', 'schedules: { timezone: Mars/Olympus_Mons }'))));
    expect(message).toContain('schedules.timezone');
    expect(message).toContain('unknown time zone');
  });

  it('refuses a literal Redis password, a non-Redis URL and unknown kinds in the placement', () => {
    const message = configError(() => readConfigFile(writeConfig(config('{}', 'redis: { url: "http://x", password: "hunter22" }\ndaemon: { jobs: [full, restore] }'))));
    expect(message).toContain('redis.url');
    expect(message).toContain('redis.password');
    expect(message).not.toContain('hunter22');
    expect(message).toContain('daemon.jobs[1]');
  });

  it('refuses an unknown cluster in the placement', () => {
    const message = configError(() => readConfigFile(writeConfig(config('{}', 'daemon: { clusters: [main, other] }'))));
    expect(message).toContain('daemon.clusters[1]: no cluster named "other"');
  });

  it('computes next runs in the configured zone', () => {
    const from = new Date('2026-03-28T12:00:00Z');
    expect(nextCronRuns('0 1 * * *', 'Europe/Paris', from, 2).map((d) => d.toISOString())).toEqual(['2026-03-29T00:00:00.000Z', '2026-03-29T23:00:00.000Z']);
  });
});
