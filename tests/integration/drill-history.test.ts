// The drill history in a real (fs) repository, through the same code and CLI an operator uses: results are stored
// encrypted and create-only, listed newest first and parsed with the schema; a damaged, moved or stray object is
// reported beside the others instead of hiding them; `lifeboat drill history` shows the same from the repository
// and the key alone, and the commands that walk every cluster's folder are not thrown by the new `drills/` prefix.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, resolveConfig } from '../../src/config/index.js';
import { createDecryptionSession, type DecryptionSession } from '../../src/crypto/index.js';
import type { DrillResult } from '../../src/drills/drill-result.js';
import { listDrillResults, loadLatestDrillResult } from '../../src/drills/history/load-drill-results.js';
import { storeDrillResult } from '../../src/drills/history/store-drill-result.js';
import { isLifeboatError } from '../../src/errors/index.js';
import { findKeyProofObject } from '../../src/repository/find-repository-data.js';
import { listRepositoryClusters } from '../../src/repository/list-repository-clusters.js';
import { openRepository, type Repository } from '../../src/repository/open-repository.js';
import type { ClusterCatalog } from '../../src/repository/describe-cluster.js';
import { drillResultKey } from '../../src/storage/index.js';
import { runLifeboatCli, type CliFixture } from '../harness/lifeboat-cli.js';
import { buildDrillResult, buildFailedToRunDrillResult } from '../harness/drill-results.js';
import { ensureCliBuilt } from '../harness/wal-archiver-runner.js';

let dir: string;
let cli: CliFixture;
let repository: Repository;
let session: DecryptionSession;
/** main: passed (oldest), RTO missed, could not run (newest). other: one passed drill. */
let stored: { passed: DrillResult; rtoMissed: DrillResult; notRun: DrillResult; other: DrillResult };

const at = (iso: string): Date => new Date(iso);

beforeAll(async () => {
  ensureCliBuilt();
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-drill-history-'));
  // A restore-only config: the history needs the repository and the key, never a database.
  const raw = { repository: { driver: 'fs', path: './repo' }, encryption: { provider: 'local', keyFile: './keys/lifeboat.key' }, stateDir: './state' };
  const configPath = join(dir, 'lifeboat.yaml');
  writeFileSync(configPath, `${JSON.stringify(raw, null, 2)}\n`, { mode: 0o600 });
  const env = { LIFEBOAT_LOG_LEVEL: 'warn' };
  cli = { configPath, dir, env };
  repository = await openRepository(resolveConfig(parseConfig(raw, configPath), configPath, env), 'write');
  session = createDecryptionSession(repository.keys);
  stored = {
    passed: buildDrillResult({ startedAt: at('2026-11-27T02:00:00Z') }),
    rtoMissed: buildDrillResult({ startedAt: at('2026-11-28T02:00:00Z'), rtoTargetSeconds: 1 }),
    notRun: buildFailedToRunDrillResult({ startedAt: at('2026-11-29T02:00:00Z') }),
    other: buildDrillResult({ cluster: 'other', startedAt: at('2026-11-28T12:00:00Z'), scenario: 'pitr-random' }),
  };
  // Stored out of time order: the listing orders them, not the writes.
  for (const result of [stored.rtoMissed, stored.other, stored.passed, stored.notRun]) {
    const key = await storeDrillResult({ storage: repository.storage, keys: repository.keys, result });
    expect(key).toBe(drillResultKey(result.cluster, result.drillId));
  }
}, 180_000);

afterAll(() => {
  session?.close();
  repository?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('drill history', () => {
  it('stores each result encrypted, and never over an existing one', async () => {
    const bytes = readFileSync(join(dir, 'repo', drillResultKey('main', stored.passed.drillId)));
    // The content is not readable; the drill id is, in the authenticated (not secret) context binding it to its key.
    for (const plain of ['"disasterTime"', 'drill-host-1', 'pgbench_accounts']) expect(bytes.includes(Buffer.from(plain)), plain).toBe(false);
    expect(bytes.includes(Buffer.from(stored.passed.drillId))).toBe(true);
    const again = await storeDrillResult({ storage: repository.storage, keys: repository.keys, result: stored.passed }).catch((error: unknown) => error);
    expect(isLifeboatError(again, 'objectExists') && again.message).toBe(`drill ${stored.passed.drillId} is already stored in ${repository.storage.location}`);
  });

  it('lists a cluster newest first, exactly as stored, and the latest one', async () => {
    const history = await listDrillResults(repository.storage, session, 'main');
    expect(history.results).toEqual([stored.notRun, stored.rtoMissed, stored.passed]);
    expect(history.unreadable).toEqual([]);
    expect(history.olderNotRead).toBe(0);
    const limited = await listDrillResults(repository.storage, session, 'main', { limit: 2 });
    expect(limited.results.map((r) => r.drillId)).toEqual([stored.notRun.drillId, stored.rtoMissed.drillId]);
    expect(limited.olderNotRead).toBe(1);
    expect(await loadLatestDrillResult(repository.storage, session, 'other')).toEqual({ result: stored.other, unreadable: [] });
    expect(await loadLatestDrillResult(repository.storage, session, 'none-yet')).toEqual({ result: undefined, unreadable: [] });
  });

  it('does not trip the commands that walk every cluster folder', async () => {
    expect(await listRepositoryClusters(repository.storage)).toEqual(['main', 'other']);
    // Drill results are encrypted with the repository's key, so they may prove a key opens this repository.
    expect(await findKeyProofObject(repository.storage)).toBe(drillResultKey('main', stored.passed.drillId));
    const list = await runLifeboatCli(cli, ['backups', 'list', '--json']);
    expect(list.code, list.stderr).toBe(0);
    const { clusters } = JSON.parse(list.stdout) as { clusters: ClusterCatalog[] };
    expect(clusters.map((c) => [c.cluster, c.backups.length])).toEqual([['main', 0], ['other', 0]]);
  });

  it('shows the history on the command line, newest first across clusters', async () => {
    const json = await runLifeboatCli(cli, ['drill', 'history', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const output = JSON.parse(json.stdout) as { drills: DrillResult[]; unreadable: unknown[]; olderNotRead: number };
    expect(output.drills).toEqual([stored.notRun, stored.other, stored.rtoMissed, stored.passed]);
    expect(output).toMatchObject({ unreadable: [], olderNotRead: 0 });

    const text = await runLifeboatCli(cli, ['drill', 'history']);
    expect(text.code, text.stderr).toBe(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines[0]!.split(/\s{2,}/)).toEqual(['WHEN (DISASTER TIME)', 'CLUSTER', 'SCENARIO', 'OUTCOME', 'RPO', 'RTO', 'BACKUP']);
    expect(lines.slice(1).map((line) => line.split(/\s{2,}/))).toEqual([
      [stored.notRun.disasterTime, 'main', 'latest', 'failed (storageUnavailable)', '-', '-', '-'],
      [stored.other.disasterTime, 'other', 'pitr-random', 'passed', '4.21 s', '41.9 s', '20261129T120000Z-F'],
      [stored.rtoMissed.disasterTime, 'main', 'latest', 'failed', '4.21 s', '41.9 s', '20261129T120000Z-F'],
      [stored.passed.disasterTime, 'main', 'latest', 'passed', '4.21 s', '41.9 s', '20261129T120000Z-F'],
    ]);

    const one = await runLifeboatCli(cli, ['drill', 'history', '--cluster', 'other', '--json']);
    expect((JSON.parse(one.stdout) as { drills: DrillResult[] }).drills).toEqual([stored.other]);
    const badLimit = await runLifeboatCli(cli, ['drill', 'history', '--limit', '0']);
    expect(badLimit.code).toBe(64);
    expect(badLimit.stderr).toContain('--limit must be a positive integer, not "0"');
  });

  it('reports a damaged, a moved and a stray object beside the readable history', async () => {
    const root = join(dir, 'repo');
    const damaged = buildDrillResult({ startedAt: at('2026-11-30T02:00:00Z') }).drillId;
    const moved = buildDrillResult({ startedAt: at('2026-11-26T02:00:00Z') }).drillId;
    // The newest: bytes that are not an encrypted object at all.
    writeFileSync(join(root, drillResultKey('main', damaged)), 'not an encrypted drill result');
    // An older id holding another drill's object: its authenticated context names the other drill.
    copyFileSync(join(root, drillResultKey('main', stored.passed.drillId)), join(root, drillResultKey('main', moved)));
    writeFileSync(join(root, 'clusters', 'main', 'drills', 'notes.txt'), 'left here by hand');
    try {
      const history = await listDrillResults(repository.storage, session, 'main');
      expect(history.results).toEqual([stored.notRun, stored.rtoMissed, stored.passed]);
      expect(history.unreadable.map((u) => [u.drillId, u.code])).toEqual([[damaged, 'objectCorrupted'], [moved, 'objectCorrupted'], [undefined, 'objectCorrupted']]);
      expect(history.unreadable[1]!.message).toContain(`belongs elsewhere: its encryption context has lifeboat:backup=${stored.passed.drillId}, expected ${moved}`);
      expect(history.unreadable[2]!.message).toContain('clusters/main/drills/notes.txt');

      // The latest readable one is found past the damaged newest one, which is reported.
      const latest = await loadLatestDrillResult(repository.storage, session, 'main');
      expect(latest.result).toEqual(stored.notRun);
      expect(latest.unreadable.map((u) => u.drillId)).toEqual([damaged]);

      const json = await runLifeboatCli(cli, ['drill', 'history', '--cluster', 'main', '--json']);
      expect(json.code, json.stderr).toBe(0);
      const output = JSON.parse(json.stdout) as { drills: DrillResult[]; unreadable: { key: string; code: string }[] };
      expect(output.drills.map((d) => d.drillId)).toEqual([stored.notRun.drillId, stored.rtoMissed.drillId, stored.passed.drillId]);
      expect(output.unreadable.map((u) => u.key)).toEqual([drillResultKey('main', damaged), drillResultKey('main', moved), 'clusters/main/drills/notes.txt']);
      const text = await runLifeboatCli(cli, ['drill', 'history', '--cluster', 'main']);
      expect(text.stdout).toContain(`unreadable: error[objectCorrupted]: `);
    } finally {
      for (const key of [drillResultKey('main', damaged), drillResultKey('main', moved), 'clusters/main/drills/notes.txt']) rmSync(join(root, key));
    }
  });
});
