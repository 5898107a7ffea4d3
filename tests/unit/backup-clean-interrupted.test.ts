// Which unfinished backups a new full backup removes (on the fs driver, with an injected clock): its own host's
// and state folder's at once (it holds their lock, so their writer is dead), another host's or folder's only
// after the grace period (their writer may still be running), never one with a manifest.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBackupOwner, storeBackupOwner } from '../../src/backup/full/backup-owner.js';
import { cleanInterruptedBackups } from '../../src/backup/full/clean-interrupted-backups.js';
import { createLogger } from '../../src/log/index.js';
import { backupLockName } from '../../src/state/lock-names.js';
import { loadStateIdentity, type StateIdentity } from '../../src/state/state-identity.js';
import { backupManifestKey, backupPartKey, backupsPrefix, collectList, createFsStorage, type Storage } from '../../src/storage/index.js';

const log = createLogger({ level: 'silent' });
const HOUR_MS = 60 * 60 * 1000;
const lock = backupLockName('main');

describe('cleanInterruptedBackups', () => {
  let root: string;
  let storage: Storage;
  let identity: StateIdentity;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'lifeboat-clean-'));
    await mkdir(join(root, 'repo'));
    storage = createFsStorage({ path: join(root, 'repo') });
    identity = loadStateIdentity(join(root, 'state'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  async function unfinished(backupId: string, owner: StateIdentity | undefined): Promise<void> {
    if (owner) await storeBackupOwner(storage, createBackupOwner(owner, 'main', backupId, lock, new Date()), AbortSignal.timeout(10_000));
    await storage.put(backupPartKey('main', backupId, 1), Buffer.from('part'));
  }

  async function folders(): Promise<string[]> {
    const ids = (await collectList(storage, backupsPrefix('main'))).map((object) => object.key.slice(backupsPrefix('main').length).split('/')[0]!);
    return [...new Set(ids)].sort();
  }

  const clean = (now: Date): Promise<string[]> =>
    cleanInterruptedBackups({ storage, cluster: 'main', graceMs: HOUR_MS, now, log, signal: AbortSignal.timeout(10_000), holder: { identity, lock } });

  it('removes its own state folder\'s leftovers at once and keeps others\' for the grace period', async () => {
    const otherHost: StateIdentity = { ...identity, hostId: 'another-machine', hostname: 'db2' };
    const otherFolder = loadStateIdentity(join(root, 'other-state'));
    await unfinished('20261201T000000Z-F', identity);
    await unfinished('20261201T000001Z-F', otherHost);
    await unfinished('20261201T000002Z-F', otherFolder);
    await unfinished('20261201T000003Z-F', undefined);
    await unfinished('20261201T000004Z-F', identity);
    await storage.put(backupManifestKey('main', '20261201T000004Z-F'), Buffer.from('{}'));

    expect(await clean(new Date())).toEqual(['20261201T000000Z-F']);
    expect(await folders()).toEqual(['20261201T000001Z-F', '20261201T000002Z-F', '20261201T000003Z-F', '20261201T000004Z-F']);

    expect(await clean(new Date(Date.now() + HOUR_MS + 1000))).toEqual(['20261201T000001Z-F', '20261201T000002Z-F', '20261201T000003Z-F']);
    expect(await folders()).toEqual(['20261201T000004Z-F']);
  });

  it('without holding the lock, even its own leftovers wait for the grace period', async () => {
    await unfinished('20261201T000000Z-F', identity);
    const removed = await cleanInterruptedBackups({ storage, cluster: 'main', graceMs: HOUR_MS, now: new Date(), log, signal: AbortSignal.timeout(10_000) });
    expect(removed).toEqual([]);
    expect(await folders()).toEqual(['20261201T000000Z-F']);
  });

  it('keeps one state folder id across loads', () => {
    expect(loadStateIdentity(join(root, 'state')).stateId).toBe(identity.stateId);
    expect(loadStateIdentity(join(root, 'other-state')).stateId).not.toBe(identity.stateId);
  });
});
