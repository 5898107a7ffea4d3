// Case: restore. A pgbench database backed up with runFullBackup (archiver alongside), then the WAL of a 60 s
// pgbench run archived, then `restore --latest --start` timed until the restored server answers
// `select count(*) from pgbench_accounts`, split by phase, with the restoring process's peak RSS.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchContext } from '../bench-context.js';
import { createBenchFixture, databaseSizeBytes, runPgbench, startBenchPostgres } from '../data/bench-postgres.js';
import { runInChild } from '../measure/run-in-child.js';
import { fmt, fmtMB, type CaseResult } from '../report/case-report.js';
import { freePort } from '../../tests/harness/free-port.js';

export async function runRestoreCase(ctx: BenchContext): Promise<CaseResult> {
  const scale = ctx.quick ? 10 : 100;
  const loadSeconds = ctx.quick ? 15 : 60;
  const log = (message: string): void => ctx.log(`restore: ${message}`);
  const pg = await startBenchPostgres();
  try {
    log(`pgbench -i -s ${scale}`);
    await runPgbench(pg, ['-i', '-q', '-s', String(scale)]);
    const sizeBytes = await databaseSizeBytes(pg);
    const fixture = createBenchFixture(pg, { partialUploadIntervalSeconds: 10 });
    try {
      const env = { FIXTURE_PGPASSWORD: pg.lifeboat.password };
      log('full backup');
      await runInChild('full-backup', { configPath: fixture.configPath, env });
      log(`WAL of pgbench -c 4 -T ${loadSeconds}, archived`);
      await runInChild('wal-archive', {
        configPath: fixture.configPath,
        env,
        superuser: { host: pg.host, port: pg.port, user: pg.superuser.user, password: pg.superuser.password },
        pgbenchPath: join(pg.bindir, 'pgbench'),
        pgbenchArgs: ['-c', '4', '-j', '2', '-T', String(loadSeconds)],
        drainTimeoutSeconds: 180,
      });
      // The restore_command runs as the PostgreSQL OS user; the fs repository was written by root. The key file
      // stays 0600 (the restore hands the postgres user its own copy).
      execFileSync('chmod', ['go+x', fixture.dir]);
      execFileSync('chmod', ['-R', 'go+rX', join(fixture.dir, 'repo')]);
      // The restored server runs as the postgres OS user, which must reach the target's parent folders.
      const parent = mkdtempSync(join(tmpdir(), 'lifeboat-bench-restore-'));
      chmodSync(parent, 0o755);
      const targetDir = join(parent, 'data');
      rmSync(targetDir, { recursive: true, force: true });
      rmSync(`${targetDir}.lifeboat-restore`, { recursive: true, force: true });
      log('restore --latest --start');
      const outcome = await runInChild('restore', { configPath: fixture.configPath, env, targetDir, port: await freePort(), bindir: pg.bindir });
      const r = outcome.result;
      rmSync(parent, { recursive: true, force: true });
      return {
        name: 'restore',
        title: 'Restore (latest, started, answering queries)',
        setup: [
          `initdb; pgbench -i -q -s ${scale} (database ${fmtMB(sizeBytes)} MB); runFullBackup with the archiver; then pgbench -c 4 -T ${loadSeconds} with the archiver running, stopped gracefully (last partial shipped)`,
          'restore: runRestore --latest --start (fs repository, zstd 3 + local key) into a new folder, in a node child; timed until `select count(*) from pgbench_accounts` answered',
        ],
        tables: [
          {
            title: 'Restore phases (seconds)',
            headers: ['database MB', 'WAL segments', 'fetch base', 'fetch WAL (overlaps replay)', 'start + replay + promote', 'to first answer', 'restoring process peak RSS MB'],
            rows: [[fmtMB(sizeBytes), String(r.walSegments), fmt(r.fetchBaseSeconds, 1), fmt(r.fetchWalSeconds, 1), fmt(r.replaySeconds, 1), fmt(r.toAnswerSeconds, 1), fmtMB(outcome.peakRssBytes)]],
          },
        ],
        notes: [`restored server answered: ${r.accounts} accounts (scale ${scale} has ${scale * 100000})`],
        data: r,
      };
    } finally {
      fixture.cleanup();
    }
  } finally {
    await pg.stop();
  }
}
