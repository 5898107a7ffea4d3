// verify against a repository a live archiver keeps writing: the newest partial it plans to read may be replaced
// (a newer partial, or the complete segment) and deleted before verify gets to it. That is the normal production
// setup (the daemon runs verify beside the archiver), not a problem to report. Deterministic: the storage verify
// reads through makes the archiver complete the partial's segment the moment verify asks for the partial.
import { describe, expect, it } from 'vitest';
import { runFullBackup } from '../../src/backup/full/run-full-backup.js';
import { listArchivedWal } from '../../src/repository/list-archived-wal.js';
import type { Storage } from '../../src/storage/index.js';
import { runVerify } from '../../src/verify/run-verify.js';
import { registerArchiverSuite, type ArchiverSuite } from '../harness/archiver-suite.js';
import { waitFor } from '../harness/wait-for.js';
import { startInProcessArchiver, writeAndSwitch, insertFillerRows } from '../harness/wal-archiver-runner.js';

let suite: ArchiverSuite;
const captured = registerArchiverSuite({}, (ready) => (suite = ready));

describe('verify beside a live archiver', () => {
  it('verifies what replaced the newest partial when the archiver removed it mid-run', async () => {
    const { pg, fixture, repository } = suite;
    const cluster = fixture.config.clusters[0]!;
    const archiver = startInProcessArchiver({ fixture, storage: repository.storage, keys: repository.keys, log: captured.log });
    try {
      await runFullBackup({ config: fixture.config, cluster, storage: repository.storage, keys: repository.keys, log: captured.log, signal: AbortSignal.timeout(120_000), lifeboatVersion: 'test' });
      // A partial of the head segment: rows written after the last switch, uploaded within the 5 s interval.
      await insertFillerRows(pg, 200);
      const partial = await waitFor('a partial of the head segment', async () => {
        const wal = await listArchivedWal(repository.storage, cluster.name, AbortSignal.timeout(10_000));
        const newest = [...wal.partials.values()].flat().sort((a, b) => a.key.localeCompare(b.key)).at(-1);
        return newest !== undefined && !wal.segments.has(newest.segment) ? newest : undefined;
      }, { timeoutMs: 60_000 });

      let replaced = false;
      const racing: Storage = {
        ...repository.storage,
        get: async (key, options) => {
          if (key === partial.key && !replaced) {
            replaced = true;
            // The archiver completes the segment, ships it and deletes its partials, as it does every few minutes.
            await writeAndSwitch(pg);
            await waitFor('the partial to be replaced by its complete segment', async () => {
              const wal = await listArchivedWal(repository.storage, cluster.name, AbortSignal.timeout(10_000));
              return wal.segments.has(partial.segment) && !(wal.partials.get(partial.segment) ?? []).some((p) => p.key === partial.key);
            }, { timeoutMs: 60_000 });
          }
          return repository.storage.get(key, options);
        },
      };
      const report = await runVerify({ storage: racing, keys: repository.keys, cluster: cluster.name, log: captured.log, signal: AbortSignal.timeout(120_000) });
      expect(replaced).toBe(true);
      expect(report.problems).toEqual([]);
      expect(report.ok).toBe(true);
    } finally {
      await archiver.stop();
    }
  }, 240_000);
});
