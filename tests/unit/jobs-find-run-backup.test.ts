// How a redelivered run finds the backup an earlier delivery took: by the run key in the manifests (fs driver),
// among the backups started since the run's earliest possible start; a backup without the key is none of its.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findRunBackup } from '../../src/jobs/find-run-backup.js';
import { storeBackupManifest } from '../../src/repository/backup-catalog.js';
import type { IncrementManifest } from '../../src/repository/backup-manifest.js';
import { createFsStorage, type Storage } from '../../src/storage/index.js';

function increment(backupId: string, runKey?: string): IncrementManifest {
  return {
    formatVersion: 1,
    type: 'incremental',
    backupId,
    cluster: 'main',
    systemIdentifier: '7000000000000000001',
    postgresVersionNum: 150020,
    walSegmentSizeBytes: 16 * 1024 * 1024,
    lifeboatVersion: 'test',
    timeline: 1,
    startLsn: '0/1000000',
    stopLsn: '0/2000000',
    startTime: '2026-12-01T00:00:00.000Z',
    stopTime: '2026-12-01T00:00:01.000Z',
    ...(runKey ? { runKey } : {}),
    fullBackupId: '20261130T000000Z-F',
    parentBackupId: '20261130T000000Z-F',
    segments: [],
    restorePoints: [],
  };
}

describe('findRunBackup', () => {
  let root: string;
  let storage: Storage;
  const signal = AbortSignal.timeout(10_000);
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'lifeboat-find-run-'));
    await mkdir(join(root, 'repo'));
    storage = createFsStorage({ path: join(root, 'repo') });
    await storeBackupManifest(storage, increment('20261201T090000Z-I', 'main.incr@2026-12-01T09:00:00.000Z'));
    await storeBackupManifest(storage, increment('20261201T100005Z-I', 'main.incr@2026-12-01T10:00:00.000Z'));
    await storeBackupManifest(storage, increment('20261201T100500Z-I'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('finds the backup whose manifest carries the run key', async () => {
    const found = await findRunBackup(storage, 'main', 'main.incr@2026-12-01T10:00:00.000Z', new Date('2026-12-01T09:00:00Z'), signal);
    expect(found?.backupId).toBe('20261201T100005Z-I');
  });

  it('finds none for a run that took nothing, and reads no backup started before the run could start', async () => {
    expect(await findRunBackup(storage, 'main', 'main.incr@2026-12-01T11:00:00.000Z', new Date('2026-12-01T00:00:00Z'), signal)).toBeUndefined();
    // Its manifest exists, but started before notBefore: not looked at (the look-up costs the newest few only).
    expect(await findRunBackup(storage, 'main', 'main.incr@2026-12-01T09:00:00.000Z', new Date('2026-12-01T09:00:01Z'), signal)).toBeUndefined();
    // A backup started in the very second of notBefore is still looked at (ids have whole seconds).
    expect((await findRunBackup(storage, 'main', 'main.incr@2026-12-01T09:00:00.000Z', new Date('2026-12-01T09:00:00.900Z'), signal))?.backupId).toBe('20261201T090000Z-I');
  });
});
