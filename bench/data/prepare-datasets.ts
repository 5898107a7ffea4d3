// The two 1 GiB inputs of the pipeline benchmark, built once and cached under bench/out/data (pass --fresh-data
// to rebuild): a tar of a pgbench data directory (very compressible, like most table files) and a tar of
// /usr/lib + /usr/share (binaries, text, some already compressed files: about 3x with zstd -3).
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { runTimedCommand, shellQuote } from '../measure/run-timed-command.js';
import { runPgbench, startBenchPostgres, stopKeepingData } from './bench-postgres.js';

export interface Dataset {
  name: string;
  file: string;
  sizeBytes: number;
  /** How the file was made, for the report. */
  recipe: string;
}

function cached(file: string, sizeBytes: number, fresh: boolean): boolean {
  return !fresh && existsSync(file) && statSync(file).size === sizeBytes;
}

/** initdb, `pgbench -i -s <scale>`, stop, tar the data directory without pg_wal, cut to `sizeBytes`. */
export async function preparePgbenchTar(dataDir: string, sizeBytes: number, scale: number, fresh: boolean, log: (message: string) => void): Promise<Dataset> {
  const file = join(dataDir, `pgbench-s${scale}-${sizeBytes}.tar`);
  const recipe = `initdb; pgbench -i -s ${scale}; pg_ctl stop -m fast; tar -C $PGDATA --exclude=./pg_wal --sort=name -cf FILE . ; truncate -s ${sizeBytes} FILE`;
  if (!cached(file, sizeBytes, fresh)) {
    mkdirSync(dataDir, { recursive: true });
    log(`building ${file} (pgbench -i -s ${scale})`);
    const pg = await startBenchPostgres();
    try {
      await runPgbench(pg, ['-i', '-q', '-s', String(scale)]);
      await stopKeepingData(pg);
      const partial = `${file}.partial`;
      await runTimedCommand(`tar -C ${shellQuote(pg.dataDir)} --exclude=./pg_wal --sort=name -cf ${shellQuote(partial)} .`);
      if (statSync(partial).size < sizeBytes) throw new Error(`the pgbench tar is smaller than ${sizeBytes} bytes; raise the scale`);
      await truncate(partial, sizeBytes);
      renameSync(partial, file);
    } finally {
      await pg.stop();
    }
  }
  return { name: 'pgbench data dir tar', file, sizeBytes, recipe };
}

/** The first `sizeBytes` of `tar --sort=name -C / -cf - usr/lib usr/share`. */
export async function prepareSystemFilesTar(dataDir: string, sizeBytes: number, fresh: boolean, log: (message: string) => void): Promise<Dataset> {
  const file = join(dataDir, `usr-files-${sizeBytes}.tar`);
  // No pipefail here: head closing the pipe early is how the tar gets cut.
  const command = `tar --sort=name -C / -cf - usr/lib usr/share 2>/dev/null | head -c ${sizeBytes}`;
  if (!cached(file, sizeBytes, fresh)) {
    mkdirSync(dataDir, { recursive: true });
    log(`building ${file}`);
    const partial = `${file}.partial`;
    await runTimedCommand(`set +o pipefail; ${command} > ${shellQuote(partial)}`);
    if (statSync(partial).size !== sizeBytes) throw new Error(`/usr/lib + /usr/share hold less than ${sizeBytes} bytes`);
    renameSync(partial, file);
  }
  return { name: 'usr/lib+usr/share tar', file, sizeBytes, recipe: `${command} > FILE` };
}

/** Both pipeline inputs at `sizeBytes`, the pgbench one from `pgbench -i -s <scale>`. */
export async function prepareDatasets(ctx: { dataDir: string; freshData: boolean; log(message: string): void }, sizeBytes: number, scale: number): Promise<Dataset[]> {
  return [await preparePgbenchTar(ctx.dataDir, sizeBytes, scale, ctx.freshData, ctx.log), await prepareSystemFilesTar(ctx.dataDir, sizeBytes, ctx.freshData, ctx.log)];
}
