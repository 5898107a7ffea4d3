// `lifeboat wal fetch <name> <path>`: PostgreSQL's restore_command during a restore. Its exit codes are
// PostgreSQL's, not the error catalog's: 1-125 means "no such file" (recovery may end and PROMOTE, losing the
// rest of the WAL), above 125 stops recovery with an error. So: 0 served, 1 truly absent, 126 for anything else.
import type { Command } from 'commander';
import { selectCluster } from '../../config/index.js';
import { describeError, isLifeboatError, LifeboatError, type ErrorCode } from '../../errors/index.js';
import { loadRestoreFetchConfig } from '../../restore/restore-fetch-config.js';
import { moveFile } from '../../restore/wal-fetch/atomic-file.js';
import type { WalFetchConfig } from '../../restore/wal-fetch/wal-fetch-config.js';
import type { CommandContext } from '../command-context.js';
import { CommandNotice } from '../report-error.js';

/** Same as run-wal-fetch's default; repeated here so `--help` and the fast path need not load it. */
const DEFAULT_WAL_FETCH_RETRIES = 3;

/** The exit codes restore_command answers PostgreSQL with. */
export const WAL_FETCH_EXIT_CODES = { served: 0, notFound: 1, failed: 126 } as const;

/** A LifeboatError reported as usual (message and HINT on stderr) that exits with a restore_command code. */
class WalFetchExit extends LifeboatError {
  readonly #exitCode: number;

  constructor(exitCode: number, code: ErrorCode, message: string, options: { hint?: string | undefined; cause?: unknown } = {}) {
    super(code, message, options);
    this.#exitCode = exitCode;
  }

  override get exitCode(): number {
    return this.#exitCode;
  }
}

/** Any failure, including bad arguments or config, as exit 126: never let PostgreSQL read it as "not found". */
function failed(error: unknown): WalFetchExit {
  if (isLifeboatError(error)) return new WalFetchExit(WAL_FETCH_EXIT_CODES.failed, error.code, error.message, { hint: error.hint, cause: error });
  return new WalFetchExit(WAL_FETCH_EXIT_CODES.failed, 'internal', describeError(error), { hint: 'this is a bug in lifeboat; please report it', cause: error });
}

function parseRetries(value: string): number {
  const retries = Number(value);
  if (!Number.isInteger(retries) || retries < 0 || retries > 10) {
    throw new LifeboatError('usage', `--retries must be an integer from 0 to 10, not "${value}"`);
  }
  return retries;
}

interface WalFetchFlags {
  restoreConfig?: string;
  cluster?: string;
  retries: string;
}

export function registerWalFetch(parent: Command, context: () => CommandContext): void {
  parent
    .command('fetch')
    .description('restore_command for a restore: fetch one WAL file (exit 0 served, 1 not in the repository, 126 failed)')
    .argument('<name>', 'the file PostgreSQL wants (%f): a segment or timeline history file name')
    .argument('<path>', 'where to write it (%p)')
    .option('--restore-config <file>', 'the fetch config `lifeboat restore` wrote (default: repository and key from --config)')
    .option('--cluster <name>', 'cluster whose WAL to fetch, without --restore-config (default: the only one configured)')
    .option('--retries <n>', 'retries after transient failures, waiting 1 s, 2 s, 4 s, ...', String(DEFAULT_WAL_FETCH_RETRIES))
    // Argument and option errors too: a mistyped restore_command must stop recovery, not end it.
    .exitOverride((error) => {
      if (error.exitCode === 0) throw error;
      throw new WalFetchExit(WAL_FETCH_EXIT_CODES.failed, 'usage', error.message.replace(/^error: /, ''), { hint: 'restore_command = \'lifeboat wal fetch %f %p --restore-config FILE\'' });
    })
    .action(async (name: string, path: string, flags: WalFetchFlags) => {
      const ctx = context();
      let result;
      try {
        let config: WalFetchConfig;
        if (flags.restoreConfig !== undefined) {
          config = loadRestoreFetchConfig(flags.restoreConfig);
          // Fast path: PostgreSQL starts this once per segment, and a prefetched file needs no repository
          // client, so the AWS SDK, crypto and pg modules are loaded only on a miss.
          if (/^[0-9A-F]{24}$|^[0-9A-F]{8}\.history$/.test(name) && (await moveFile(`${config.prefetchDir}/${name}`, path, ctx.signal))) return;
        } else {
          const { walFetchConfigFrom } = await import('../../restore/wal-fetch/wal-fetch-config.js');
          const runtime = ctx.config();
          config = walFetchConfigFrom(runtime, flags.cluster ?? selectCluster(runtime, undefined).name);
        }
        const { runWalFetch } = await import('../../restore/wal-fetch/run-wal-fetch.js');
        result = await runWalFetch({ config, name, destination: path, retries: parseRetries(flags.retries), log: ctx.log, signal: ctx.signal });
      } catch (error) {
        throw failed(error);
      }
      if (result === 'not-found') {
        // PostgreSQL asks for files past the end of the archive (and for future timelines) in every recovery:
        // expected, so one plain line for its log, not an error report.
        throw new CommandNotice(`${name} is not in the repository (expected past the end of the archived WAL)`, WAL_FETCH_EXIT_CODES.notFound);
      }
    });
}
