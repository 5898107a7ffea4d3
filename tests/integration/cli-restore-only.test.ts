// Disaster recovery needs only the repository and the key: with a config holding no cluster, or naming clusters
// whose database secret is not set (the DR host has no database to reach), `backups list`, `restore --dry-run`
// and `verify` work through the real CLI, and find the clusters in the repository itself. Commands that work on a
// cluster say clearly that none is configured, or name the secret they lack. `backups list` and the restore plan
// show the same recoverable window.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FullBackupManifest } from '../../src/repository/backup-manifest.js';
import type { ClusterCatalog } from '../../src/repository/describe-cluster.js';
import { pgbench } from '../harness/lifeboat-fixture.js';
import { runCli, type CliResult } from '../harness/lifeboat-cli.js';
import { repositoryPath, startRestoreSource, type RestoreSource } from '../harness/restore-source.js';
import { ensureCliBuilt } from '../harness/wal-archiver-runner.js';

let source: RestoreSource;
let backup: FullBackupManifest;
let drDir: string;
/** Repository and key only. */
let restoreOnlyConfig: string;
/** The production config on a DR host: cluster `main` named, its password variable not set. */
let unsetPasswordConfig: string;
/** A config naming another cluster only (password unset too): `main` is only in the repository. */
let otherClusterConfig: string;
/** No database secret in sight. */
const env = { LIFEBOAT_LOG_LEVEL: 'warn' };

function writeConfig(name: string, clusters: unknown[]): string {
  const path = join(drDir, `${name}.yaml`);
  const { fixture } = source;
  const config = {
    ...(clusters.length > 0 ? { clusters } : {}),
    repository: { driver: 'fs', path: repositoryPath(fixture) },
    encryption: { provider: 'local', keyFile: join(fixture.dir, 'keys', 'lifeboat.key') },
    stateDir: join(drDir, `${name}-state`),
  };
  writeFileSync(path, JSON.stringify(config, null, 2), { mode: 0o600 });
  return path;
}

function cluster(name: string): unknown {
  return { name, postgres: { host: source.pg.host, port: source.pg.port, user: source.pg.lifeboat.user, password: { env: 'LB_PGPASS' }, sslmode: 'disable' } };
}

function expectExit(result: CliResult, code: number): void {
  expect(result.code, `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`).toBe(code);
}

beforeAll(async () => {
  ensureCliBuilt();
  source = await startRestoreSource();
  backup = await source.fullBackup();
  await pgbench(source.pg, ['-c', '1', '-t', '50', '-n']);
  await source.pg.query('select pg_switch_wal()');
  await pgbench(source.pg, ['-c', '1', '-t', '20', '-n']);
  await source.archiveAllAndStop();
  drDir = join(source.fixture.dir, 'dr');
  mkdirSync(drDir);
  restoreOnlyConfig = writeConfig('restore-only', []);
  unsetPasswordConfig = writeConfig('unset-password', [cluster('main')]);
  otherClusterConfig = writeConfig('other-cluster', [cluster('other')]);
}, 240_000);

afterAll(async () => {
  await source?.stop();
});

describe('restore and list from the repository and the key alone', () => {
  it('backups list works without the database secret, and lists the clusters the repository holds', async () => {
    const unset = await runCli(['backups', 'list', '--json'], { configPath: unsetPasswordConfig, env });
    expectExit(unset, 0);
    const restoreOnly = await runCli(['backups', 'list', '--json'], { configPath: restoreOnlyConfig, env });
    expectExit(restoreOnly, 0);
    const { clusters } = JSON.parse(restoreOnly.stdout) as { clusters: ClusterCatalog[] };
    expect(clusters.map((c) => c.cluster)).toEqual(['main']);
    expect(clusters[0]!.backups.map((b) => b.backupId)).toEqual([backup.backupId]);
    // The config names `other` (nothing stored yet) and the repository holds `main`: both are listed.
    const other = await runCli(['backups', 'list', '--json'], { configPath: otherClusterConfig, env });
    expectExit(other, 0);
    expect((JSON.parse(other.stdout) as { clusters: ClusterCatalog[] }).clusters.map((c) => c.cluster)).toEqual(['main', 'other']);
    const text = await runCli(['backups', 'list'], { configPath: restoreOnlyConfig, env });
    expectExit(text, 0);
    expect(text.stdout).toMatch(/recoverable: \d{4}-\d\d-\d\dT/);
    expect(text.stdout).not.toContain('time unknown');
  });

  it('restore --dry-run plans from a config without clusters, and shows the window backups list shows', async () => {
    const list = JSON.parse((await runCli(['backups', 'list', '--json'], { configPath: restoreOnlyConfig, env })).stdout) as { clusters: ClusterCatalog[] };
    const window = list.clusters[0]!.window!;
    expect(window.earliest.time).toBeDefined();
    expect(window.latest.time).toBeDefined();
    const targetDir = join(drDir, 'restore-only-target');
    const plan = await runCli(['restore', '--target-dir', targetDir, '--latest', '--dry-run', '--json'], { configPath: restoreOnlyConfig, env });
    expectExit(plan, 0);
    const summary = JSON.parse(plan.stdout) as { dryRun: boolean; cluster: string; backupId: string; allObjectsPresent: boolean; window: ClusterCatalog['window'] };
    expect(summary).toMatchObject({ dryRun: true, cluster: 'main', backupId: backup.backupId, allObjectsPresent: true });
    expect(summary.window).toEqual(window);
  });

  it('restore --cluster NAME works for a cluster the config does not name, with another cluster\'s secret unset', async () => {
    const targetDir = join(drDir, 'other-cluster-target');
    const plan = await runCli(['restore', '--cluster', 'main', '--target-dir', targetDir, '--latest', '--dry-run', '--json'], { configPath: otherClusterConfig, env });
    expectExit(plan, 0);
    expect(JSON.parse(plan.stdout)).toMatchObject({ cluster: 'main', backupId: backup.backupId });
    const unset = await runCli(['restore', '--target-dir', targetDir, '--latest', '--dry-run', '--json'], { configPath: unsetPasswordConfig, env });
    expectExit(unset, 0);
  });

  it('verify checks every cluster the repository holds when the config names none', async () => {
    const verify = await runCli(['verify', '--json'], { configPath: restoreOnlyConfig, env });
    expectExit(verify, 0);
    const { reports } = JSON.parse(verify.stdout) as { reports: { cluster: string; ok: boolean; backupsChecked: string[]; walSegmentsChecked: number }[] };
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ cluster: 'main', ok: true, backupsChecked: [backup.backupId] });
    expect(reports[0]!.walSegmentsChecked).toBeGreaterThan(1);
  });

  it('commands that work on a cluster say none is configured, or name the secret they lack; config check checks them all', async () => {
    const none = await runCli(['backup', 'full'], { configPath: restoreOnlyConfig, env });
    expectExit(none, 65);
    expect(none.stderr).toMatch(/error\[config\]: .*restore-only\.yaml configures no cluster, and this command works on one/);
    expect(none.stderr).toContain('HINT: add the cluster under clusters:');
    const unset = await runCli(['backup', 'full'], { configPath: unsetPasswordConfig, env });
    expectExit(unset, 66);
    expect(unset.stderr).toContain('error[secret]: clusters[0].postgres.password: environment variable LB_PGPASS is not set');
    const check = await runCli(['config', 'check'], { configPath: unsetPasswordConfig, env });
    expectExit(check, 66);
    expect(check.stderr).toContain('clusters[0].postgres.password: environment variable LB_PGPASS is not set');
    expectExit(await runCli(['config', 'check'], { configPath: restoreOnlyConfig, env }), 0);
  });
});
