// The repository layout: the exact key of every kind of object (these are an on-disk format, so a change
// here is a format change), input validation that keeps keys inside their cluster, and key ordering.
import { describe, expect, it } from 'vitest';
import { isLifeboatError } from '../../src/errors/index.js';
import {
  backupInProgressKey,
  backupManifestKey,
  backupPartKey,
  backupPrefix,
  backupsPrefix,
  clusterInfoKey,
  clusterPrefix,
  compareKeys,
  drillResultKey,
  drillsPrefix,
  formatTimeline,
  isEncryptedObjectKey,
  isRepositoryBookkeepingKey,
  parseDrillResultKey,
  parseWalKey,
  probeKey,
  repositoryInfoKey,
  repositoryKeysKey,
  walHistoryKey,
  walPartialKey,
  walPrefix,
  walRootPrefix,
  walSegmentKey,
} from '../../src/storage/index.js';

const SHA = 'ab'.repeat(32);
const SEGMENT = '00000002000000A1000000FE';

function usageError(build: () => unknown): string {
  try {
    build();
  } catch (error) {
    if (isLifeboatError(error, 'usage')) return `${error.message} | ${error.hint ?? ''}`;
    throw error;
  }
  throw new Error('expected a usage error');
}

describe('repository layout', () => {
  it('builds repository-level keys', () => {
    expect(repositoryInfoKey()).toBe('lifeboat.json');
    expect(probeKey()).toBe('probes/check.probe');
    expect(probeKey('host-1-4f2a')).toBe('probes/host-1-4f2a.probe');
    expect(repositoryKeysKey()).toBe('keys.json');
  });

  it('tells bookkeeping from data, and encrypted objects from metadata', () => {
    for (const key of [repositoryInfoKey(), repositoryKeysKey(), probeKey()]) expect(isRepositoryBookkeepingKey(key)).toBe(true);
    expect(isRepositoryBookkeepingKey(clusterInfoKey('main'))).toBe(false);
    expect(isEncryptedObjectKey(backupPartKey('main', '20250101T000000Z', 1))).toBe(true);
    expect(isEncryptedObjectKey(walSegmentKey('main', SEGMENT, SHA))).toBe(true);
    expect(isEncryptedObjectKey(walPartialKey('main', SEGMENT, '000000A1FE001234'))).toBe(true);
    expect(isEncryptedObjectKey(walHistoryKey('main', 2))).toBe(true);
    expect(isEncryptedObjectKey(drillResultKey('main', 'drill-main-20261129T134512Z'))).toBe(true);
    expect(isEncryptedObjectKey(backupManifestKey('main', '20250101T000000Z'))).toBe(false);
    expect(isEncryptedObjectKey(clusterInfoKey('main'))).toBe(false);
  });

  it('builds cluster and backup keys', () => {
    expect(clusterPrefix('main')).toBe('clusters/main/');
    expect(clusterInfoKey('main')).toBe('clusters/main/cluster.json');
    expect(backupsPrefix('main')).toBe('clusters/main/backups/');
    expect(backupPrefix('main', '20250101T000000Z')).toBe('clusters/main/backups/20250101T000000Z/');
    expect(backupManifestKey('main', '20250101T000000Z')).toBe('clusters/main/backups/20250101T000000Z/manifest.json');
    expect(backupInProgressKey('main', '20250101T000000Z')).toBe('clusters/main/backups/20250101T000000Z/in-progress.json');
    expect(backupPartKey('main', '20250101T000000Z', 1)).toBe('clusters/main/backups/20250101T000000Z/base/part-00001.tar.zst.enc');
    expect(backupPartKey('main', 'b', 99_999)).toBe('clusters/main/backups/b/base/part-99999.tar.zst.enc');
  });

  it('builds WAL keys in the timeline folder named by the segment', () => {
    expect(formatTimeline(1)).toBe('00000001');
    expect(formatTimeline(0x1a)).toBe('0000001A');
    expect(walRootPrefix('main')).toBe('clusters/main/wal/');
    expect(walPrefix('main', 2)).toBe('clusters/main/wal/00000002/');
    expect(walSegmentKey('main', SEGMENT, SHA)).toBe(`clusters/main/wal/00000002/${SEGMENT}-${SHA}`);
    expect(walPartialKey('main', SEGMENT, '000000A1FE001234')).toBe(`clusters/main/wal/00000002/${SEGMENT}.partial-000000A1FE001234`);
    expect(walHistoryKey('main', 2)).toBe('clusters/main/wal/00000002/00000002.history');
    expect(walSegmentKey('main', SEGMENT, SHA).startsWith(walPrefix('main', 2))).toBe(true);
  });

  it('parses WAL keys back, and nothing else', () => {
    expect(parseWalKey(walSegmentKey('main', SEGMENT, SHA))).toEqual({ kind: 'segment', timeline: 2, segmentName: SEGMENT, sha256: SHA });
    expect(parseWalKey(walPartialKey('main', SEGMENT, '000000A1FE001234'))).toEqual({
      kind: 'partial',
      timeline: 2,
      segmentName: SEGMENT,
      endLsnHex: '000000A1FE001234',
    });
    expect(parseWalKey(walHistoryKey('main', 0x1a))).toEqual({ kind: 'history', timeline: 0x1a });
    expect(parseWalKey(clusterInfoKey('main'))).toBeUndefined();
    // A segment filed under another timeline's folder is not a key this layout builds.
    expect(parseWalKey(`clusters/main/wal/00000001/${SEGMENT}-${SHA}`)).toBeUndefined();
    expect(parseWalKey(`clusters/main/wal/00000002/${SEGMENT}-${SHA}x`)).toBeUndefined();
  });

  it('orders backup parts and WAL objects the way restore reads them', () => {
    const parts = [10, 2, 1, 100].map((n) => backupPartKey('main', 'b', n)).sort(compareKeys);
    expect(parts.map((key) => key.slice(-17, -12))).toEqual(['00001', '00002', '00010', '00100']);
    const next = '00000002000000A1000000FF';
    const wal = [walSegmentKey('main', next, SHA), walPartialKey('main', SEGMENT, '000000A1FE001234'), walSegmentKey('main', SEGMENT, SHA), walHistoryKey('main', 2)];
    expect(wal.sort(compareKeys).map((key) => parseWalKey(key)?.kind)).toEqual(['history', 'segment', 'partial', 'segment']);
  });

  it('builds drill result keys whose order is time order, and parses them back', () => {
    expect(drillsPrefix('main')).toBe('clusters/main/drills/');
    expect(drillResultKey('main', 'drill-main-20261129T134512Z')).toBe('clusters/main/drills/drill-main-20261129T134512Z.json.enc');
    expect(drillResultKey('prod-eu_1', 'drill-prod-eu_1-20261129T134512Z')).toBe('clusters/prod-eu_1/drills/drill-prod-eu_1-20261129T134512Z.json.enc');
    expect(parseDrillResultKey(drillResultKey('main', 'drill-main-20261129T134512Z'))).toEqual({ cluster: 'main', drillId: 'drill-main-20261129T134512Z' });
    expect(parseDrillResultKey('clusters/main/drills/drill-other-20261129T134512Z.json.enc')).toBeUndefined();
    expect(parseDrillResultKey('clusters/main/drills/drill-main-20261129T134512Z.json')).toBeUndefined();
    expect(parseDrillResultKey(clusterInfoKey('main'))).toBeUndefined();
    const keys = ['20270101T000000Z', '20261129T134512Z', '20261129T090000Z'].map((stamp) => drillResultKey('main', `drill-main-${stamp}`));
    expect(keys.sort(compareKeys).map((key) => parseDrillResultKey(key)?.drillId)).toEqual([
      'drill-main-20261129T090000Z',
      'drill-main-20261129T134512Z',
      'drill-main-20270101T000000Z',
    ]);
  });

  it.each(['', 'drill-main', 'drill-main-2026-11-29T13:45:12Z', 'drill-main-20261129T134512.123Z', 'drill-main-20261129T134512Z/../x', 'main-20261129T134512Z'])(
    'rejects the drill id %j',
    (drillId) => {
      expect(usageError(() => drillResultKey('main', drillId))).toContain('invalid drill id');
    },
  );

  it('refuses a drill id of another cluster', () => {
    expect(usageError(() => drillResultKey('main', 'drill-other-20261129T134512Z'))).toContain('is not one of cluster "main"');
  });

  it.each(['', 'Main', '-main', '_main', 'a'.repeat(64), 'a/b', '..', 'a.b', 'ma in'])('rejects the cluster name %j', (name) => {
    expect(usageError(() => clusterInfoKey(name))).toContain('invalid cluster name');
  });

  it.each(['a', '0', 'main', 'prod-eu_1', 'a'.repeat(63)])('accepts the cluster name %j', (name) => {
    expect(clusterPrefix(name)).toBe(`clusters/${name}/`);
  });

  it('rejects backup ids, part numbers, segments, checksums, LSNs and timelines that are not well-formed', () => {
    expect(usageError(() => backupManifestKey('main', '../x'))).toContain('invalid backup id');
    expect(usageError(() => backupManifestKey('main', ''))).toContain('invalid backup id');
    expect(usageError(() => backupPartKey('main', 'b', 0))).toContain('invalid backup part number');
    expect(usageError(() => backupPartKey('main', 'b', 100_000))).toContain('raise the part size');
    expect(usageError(() => backupPartKey('main', 'b', 1.5))).toContain('invalid backup part number');
    expect(usageError(() => walSegmentKey('main', SEGMENT.toLowerCase(), SHA))).toContain('invalid WAL segment name');
    expect(usageError(() => walSegmentKey('main', `${SEGMENT}.partial`, SHA))).toContain('invalid WAL segment name');
    expect(usageError(() => walSegmentKey('main', SEGMENT, SHA.toUpperCase()))).toContain('invalid SHA-256 digest');
    expect(usageError(() => walPartialKey('main', SEGMENT, '0/16B3748'))).toContain('invalid LSN');
    expect(usageError(() => walPrefix('main', 0))).toContain('invalid timeline');
    expect(usageError(() => walHistoryKey('main', 2 ** 32))).toContain('invalid timeline');
    expect(usageError(() => probeKey('../x'))).toContain('invalid probe nonce');
  });

  it('validates the cluster name in every key that contains one', () => {
    for (const build of [
      () => backupPrefix('Bad', 'b'),
      () => backupPartKey('Bad', 'b', 1),
      () => walPrefix('Bad', 1),
      () => walSegmentKey('Bad', SEGMENT, SHA),
      () => walPartialKey('Bad', SEGMENT, '000000A1FE001234'),
      () => walHistoryKey('Bad', 2),
      () => backupsPrefix('Bad'),
      () => drillsPrefix('Bad'),
      () => drillResultKey('Bad', 'drill-Bad-20261129T134512Z'),
    ]) {
      expect(usageError(build)).toContain('invalid cluster name "Bad"');
    }
  });
});
