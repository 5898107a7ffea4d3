// A full backup under pgbench write load with the WAL archiver running, against a real PostgreSQL 15; then the
// stored backup, fetched, decrypted and extracted by Lifeboat's own code, must pass the real pg_verifybackup
// with the WAL from the repository.
import { spawn } from 'node:child_process';
import { mkdirSync, createWriteStream, readdirSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFullBackup } from '../../src/backup/full/run-full-backup.js';
import { runIncrementalBackup } from '../../src/backup/incremental/run-incremental-backup.js';
import { describeCluster } from '../../src/repository/describe-cluster.js';
import { runVerify } from '../../src/verify/run-verify.js';
import { runWalArchive } from '../../src/backup/wal-archive/run-wal-archive.js';
import { LifeboatError } from '../../src/errors/index.js';
import { createDecryptionSession } from '../../src/crypto/index.js';
import { createLogger } from '../../src/log/index.js';
import { readObject } from '../../src/pipeline/index.js';
import { parseLsn, toTimelineId } from '../../src/postgres/index.js';
import { listBackupIds, loadBackupManifest } from '../../src/repository/backup-catalog.js';
import type { FullBackupManifest } from '../../src/repository/backup-manifest.js';
import { segmentsBetween } from '../../src/repository/find-wal-gaps.js';
import { listArchivedWal } from '../../src/repository/list-archived-wal.js';
import { openRepository, type Repository } from '../../src/repository/open-repository.js';
import { createLifeboatFixture, pgbench, type LifeboatFixture } from '../harness/lifeboat-fixture.js';
import { startPostgres, type PostgresServer } from '../harness/postgres.js';
import { runProcess } from '../harness/run-process.js';
import { waitFor } from '../harness/wait-for.js';

const log = createLogger({ level: process.env.LIFEBOAT_TEST_LOG_LEVEL ?? 'warn' });
let pg: PostgresServer;
let fixture: LifeboatFixture;
let repository: Repository;
let archiver: { stop(): Promise<void> };

function startArchiver(): { stop(): Promise<void> } {
  const controller = new AbortController();
  const cluster = fixture.config.clusters[0]!;
  const running = runWalArchive({ config: fixture.config, cluster, storage: repository.storage, keys: repository.keys, log, signal: controller.signal, pollMs: 200 });
  running.catch(() => undefined);
  return {
    async stop() {
      controller.abort();
      await running;
    },
  };
}

beforeAll(async () => {
  pg = await startPostgres();
  fixture = createLifeboatFixture(pg);
  repository = await openRepository(fixture.config, 'write');
  await pgbench(pg, ['-i', '-s', '5', '-q']);
  archiver = startArchiver();
}, 300_000);

afterAll(async () => {
  await archiver?.stop().catch(() => undefined);
  repository?.close();
  await pg?.stop();
  fixture?.cleanup();
});

async function fetchObjectTo(key: string, expected: FullBackupManifest['parts'][number], sink: NodeJS.WritableStream): Promise<void> {
  const session = createDecryptionSession(repository.keys, { expectedScope: { cluster: 'main' } });
  try {
    await pipeline(readObject({ storage: repository.storage, key, session, expected }), sink);
  } finally {
    session.close();
  }
}

describe('full backup', () => {
  let manifest: FullBackupManifest;

  it('completes under pgbench write load and is listed only once complete', async () => {
    const load = pgbench(pg, ['-c', '4', '-T', '20', '-n']);
    const cluster = fixture.config.clusters[0]!;
    // First a backup interrupted for real, once its first part is stored: it is never listed, and it removes
    // what it stored on its way out.
    const interrupt = new AbortController();
    const interrupted = runFullBackup({ config: fixture.config, cluster, storage: repository.storage, keys: repository.keys, log, signal: interrupt.signal, lifeboatVersion: 'test' });
    interrupted.catch(() => undefined);
    const partsDir = join(fixture.dir, 'repo', 'clusters', 'main', 'backups');
    const storedParts = (): string[] =>
      existsSync(partsDir) ? readdirSync(partsDir, { recursive: true, encoding: 'utf8' }).filter((path) => /\/base\/part-\d+\.tar\.zst\.enc$/.test(path)) : [];
    await waitFor('the interrupted backup to store a part', () => storedParts().length > 0, { timeoutMs: 120_000, intervalMs: 20 });
    expect(await listBackupIds(repository.storage, 'main')).toEqual([]);
    interrupt.abort(new LifeboatError('aborted', 'interrupted by the test'));
    await expect(interrupted).rejects.toMatchObject({ code: 'aborted', message: expect.stringMatching(/^backup full interrupted by the test; removed \d+ stored parts? of backup /) as unknown });
    expect(await listBackupIds(repository.storage, 'main')).toEqual([]);
    expect(storedParts()).toEqual([]);

    manifest = await runFullBackup({ config: fixture.config, cluster, storage: repository.storage, keys: repository.keys, log, signal: AbortSignal.timeout(240_000), lifeboatVersion: 'test' });
    await load;
    expect(manifest.type).toBe('full');
    expect(manifest.parts.length).toBeGreaterThan(1);
    expect(parseLsn(manifest.stopLsn) > parseLsn(manifest.startLsn)).toBe(true);
    expect(await listBackupIds(repository.storage, 'main')).toEqual([manifest.backupId]);
    const reloaded = await loadBackupManifest(repository.storage, 'main', manifest.backupId);
    expect(reloaded).toEqual(manifest);
    // Every WAL segment from start to stop is in the repository (the archive check held).
    const wal = await listArchivedWal(repository.storage, 'main');
    const needed = segmentsBetween(toTimelineId(manifest.timeline), parseLsn(manifest.startLsn), parseLsn(manifest.stopLsn), manifest.walSegmentSizeBytes);
    expect(needed.filter((segment) => !wal.segments.has(segment))).toEqual([]);
  }, 300_000);

  it('restored by Lifeboat\'s own code, passes pg_verifybackup with the WAL from the repository', async () => {
    const target = join(fixture.dir, 'verify', 'data');
    const walDir = join(fixture.dir, 'verify', 'wal');
    mkdirSync(target, { recursive: true });
    mkdirSync(walDir, { recursive: true });
    for (const part of manifest.parts) {
      const tar = spawn('tar', ['-x', '-C', target], { stdio: ['pipe', 'ignore', 'inherit'] });
      const exited = new Promise<number | null>((resolve) => tar.once('close', resolve));
      await fetchObjectTo(part.key, part, tar.stdin);
      expect(await exited).toBe(0);
    }
    expect(existsSync(join(target, 'backup_manifest'))).toBe(true);
    const wal = await listArchivedWal(repository.storage, 'main');
    const needed = segmentsBetween(toTimelineId(manifest.timeline), parseLsn(manifest.startLsn), parseLsn(manifest.stopLsn), manifest.walSegmentSizeBytes);
    for (const segment of needed) {
      const stored = wal.segments.get(segment)!;
      await fetchObjectTo(stored.key, { plaintextSha256: stored.sha256 } as FullBackupManifest['parts'][number], createWriteStream(join(walDir, segment)));
    }
    expect(readdirSync(walDir).sort()).toEqual(needed);
    const result = await runProcess(join(pg.bindir, 'pg_verifybackup'), ['--wal-directory', walDir, target]);
    expect(result.stdout).toContain('backup successfully verified');
  }, 300_000);

  it('seals the WAL archived since the backup into an increment with commit times, and lists the recoverable window', async () => {
    await pgbench(pg, ['-c', '2', '-T', '3', '-n']);
    const lsn = (await pg.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn'))[0]!.lsn;
    const committed = (await pg.query<{ committed: string }>('select max(pg_xact_commit_timestamp(xmin))::text as committed from pgbench_history'))[0]!.committed;
    await pg.query('select pg_switch_wal()');
    const cluster = fixture.config.clusters[0]!;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const wal = await listArchivedWal(repository.storage, 'main');
      const needed = segmentsBetween(toTimelineId(1), parseLsn(manifest.stopLsn), parseLsn(lsn), manifest.walSegmentSizeBytes);
      if (needed.every((segment) => wal.segments.has(segment))) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const increment = await runIncrementalBackup({ cluster, storage: repository.storage, keys: repository.keys, log, signal: AbortSignal.timeout(60_000), lifeboatVersion: 'test' });
    expect(increment?.parentBackupId).toBe(manifest.backupId);
    expect(increment?.startLsn).toBe(manifest.stopLsn);
    expect(parseLsn(increment!.stopLsn) >= parseLsn(lsn)).toBe(true);
    expect(increment?.lastXactTime).toBeDefined();
    expect(Date.parse(increment!.lastXactTime!)).toBeGreaterThanOrEqual(Math.floor(Date.parse(committed)));

    const session = createDecryptionSession(repository.keys, {});
    const catalog = await describeCluster(repository.storage, session, 'main');
    session.close();
    expect(catalog.backups.map((b) => b.type)).toEqual(['full', 'incremental']);
    expect(catalog.gaps).toEqual([]);
    expect(catalog.window?.earliest.lsn).toBe(manifest.stopLsn);
    expect(catalog.window?.earliest.time).toBe(manifest.consistentXactTime ?? manifest.stopTime);
    expect(parseLsn(catalog.window!.latest.lsn) >= parseLsn(increment!.stopLsn)).toBe(true);
    expect(Date.parse(catalog.window!.latest.time!)).toBeGreaterThanOrEqual(Math.floor(Date.parse(committed)));
  }, 120_000);

  it('verify passes on the intact repository, then names a corrupted object and a missing segment exactly', async () => {
    await archiver.stop();
    const good = await runVerify({ storage: repository.storage, keys: repository.keys, cluster: 'main', log, signal: AbortSignal.timeout(120_000) });
    expect(good.problems).toEqual([]);
    expect(good.ok).toBe(true);
    expect(good.objectsChecked).toBeGreaterThan(manifest.parts.length);

    const part = manifest.parts[1]!;
    const partPath = join(fixture.config.repository.driver === 'fs' ? fixture.config.repository.path : '', part.key);
    const bytes = readFileSync(partPath);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = bytes[middle]! ^ 0x01;
    writeFileSync(partPath, bytes);
    const wal = await listArchivedWal(repository.storage, 'main');
    // A segment inside the backup's chain (after its start), so every restore from it needs this one.
    const victim = [...wal.segments.values()].filter((s) => s.segment > manifest.startSegment).sort((a, b) => (a.segment < b.segment ? -1 : 1))[0]!;
    await repository.storage.delete([victim.key]);

    const bad = await runVerify({ storage: repository.storage, keys: repository.keys, cluster: 'main', log, signal: AbortSignal.timeout(120_000) });
    expect(bad.ok).toBe(false);
    expect(bad.missingWalSegments).toContain(victim.segment);
    expect(bad.problems).toContainEqual(expect.objectContaining({ code: 'objectCorrupted', subject: part.key }));
  }, 180_000);
});
