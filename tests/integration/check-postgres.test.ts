// `lifeboat check`'s PostgreSQL probes against a real server with scram auth and a least-privilege role.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPostgres } from '../../src/check/check-postgres.js';
import { resolveConfig, parseConfig, type RuntimeCluster } from '../../src/config/index.js';
import { startPostgres, type PostgresServer } from '../harness/postgres.js';

let pg: PostgresServer;

function clusterFor(password: string): RuntimeCluster {
  const config = parseConfig(
    {
      clusters: [{ name: 'main', postgres: { host: pg.host, port: pg.port, user: pg.lifeboat.user, password: { env: 'CHECK_PGPASSWORD' }, sslmode: 'disable' } }],
      repository: { driver: 'fs', path: '/tmp/unused' },
      encryption: { provider: 'local', keyFile: '/tmp/unused.key' },
    },
    'test',
  );
  return resolveConfig(config, '/tmp/lifeboat.yaml', { CHECK_PGPASSWORD: password }).clusters[0]!;
}

beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  await pg?.stop();
});

describe('checkPostgres', () => {
  it('passes every probe for a correctly set-up server, using the password only through PGPASSFILE', async () => {
    const { items, info } = await checkPostgres(clusterFor(pg.lifeboat.password));
    expect(items.filter((item) => !item.ok)).toEqual([]);
    expect(items.map((item) => item.name)).toContain('replication connection');
    expect(info?.majorVersion).toBe(pg.version);
    expect(info?.systemIdentifier).toMatch(/^\d+$/);
  });

  it('fails the connection with a hint naming the password reference when the password is wrong', async () => {
    const { items } = await checkPostgres(clusterFor('not-the-password'));
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ name: 'postgres connection', ok: false, code: 'postgresUnavailable' });
    expect(items[0]!.hint).toContain('clusters[].postgres.password');
  });
});
