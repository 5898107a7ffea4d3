// Child-side full backup: runWalArchive and runFullBackup in one process, as `lifeboat` runs them, against the
// fixture's fs repository. Times runFullBackup alone and splits it into streaming and the WAL wait + read-back.
import { runFullBackup } from '../../src/backup/full/run-full-backup.js';
import { loadConfig } from '../../src/config/index.js';
import { openRepository } from '../../src/repository/open-repository.js';
import { createCapturingLogger } from './capture-log.js';
import { startArchiver } from './start-archiver.js';

export interface FullBackupParams {
  configPath: string;
  /** Env the config's secret references resolve from (the fixture's password variable). */
  env: Record<string, string>;
}

export interface FullBackupResult {
  seconds: number;
  /** From runFullBackup's start to the last part stored: pg_basebackup streaming through the pipeline. */
  streamSeconds: number;
  tarSizeBytes: number;
  storedSizeBytes: number;
  parts: number;
}

export async function runFullBackupTask(params: FullBackupParams): Promise<FullBackupResult> {
  const config = loadConfig(params.configPath, { ...process.env, ...params.env });
  const { storage, keys, close } = await openRepository(config, 'write');
  const { log, events } = createCapturingLogger();
  const archiver = await startArchiver(config, storage, keys, log);
  try {
    const startedMs = Date.now();
    const started = performance.now();
    const manifest = await runFullBackup({ config, cluster: config.clusters[0]!, storage, keys, log, signal: new AbortController().signal, lifeboatVersion: 'bench' });
    const seconds = (performance.now() - started) / 1000;
    const lastPartMs = events.filter((event) => event.msg === 'base backup part stored').at(-1)?.atMs ?? Number.NaN;
    return {
      seconds,
      streamSeconds: (lastPartMs - startedMs) / 1000,
      tarSizeBytes: manifest.tarSizeBytes,
      storedSizeBytes: manifest.parts.reduce((sum, part) => sum + part.storedSizeBytes, 0),
      parts: manifest.parts.length,
    };
  } finally {
    await archiver.stop();
    close();
  }
}
