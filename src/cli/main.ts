// The lifeboat CLI: a thin adapter that parses arguments, calls a run* function, and maps the result to an
// exit code. Commands live in ./commands, one file each.
import { setMaxListeners } from 'node:events';
import { Command, CommanderError } from 'commander';
import { ERROR_CODES } from '../errors/index.js';
import { createCommandContext, type CommandContext } from './command-context.js';
import { registerBackupFull } from './commands/backup-full.js';
import { registerBackupIncremental } from './commands/backup-incremental.js';
import { registerBackupsList } from './commands/backups-list.js';
import { registerCheck } from './commands/check.js';
import { registerConfigCheck } from './commands/config-check.js';
import { registerRestore } from './commands/restore.js';
import { registerRestorePoint } from './commands/restore-point.js';
import { registerVerify } from './commands/verify.js';
import { registerWalArchive } from './commands/wal-archive.js';
import { registerWalFetch } from './commands/wal-fetch.js';
import { formatErrorReport } from './report-error.js';
import { LIFEBOAT_VERSION } from './version.js';

export interface MainOptions {
  env?: NodeJS.ProcessEnv;
  out?: (text: string) => void;
  err?: (text: string) => void;
}

/** Build the command tree. `context` is created after global options are parsed. */
function createProgram(context: () => CommandContext, err: (text: string) => void): Command {
  const program = new Command('lifeboat')
    .description('PostgreSQL backups, point-in-time restore and disaster recovery')
    .version(LIFEBOAT_VERSION, '-V, --version')
    .option('-c, --config <file>', 'config file (default: $LIFEBOAT_CONFIG, else ./lifeboat.yaml)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (text) => err(text.replace(/\n$/, '')) });

  const config = program.command('config').description('inspect the configuration');
  registerConfigCheck(config, context);
  const backup = program.command('backup').description('take backups');
  registerBackupFull(backup, context);
  registerBackupIncremental(backup, context);
  const backups = program.command('backups').description('the backup catalog');
  registerBackupsList(backups, context);
  const wal = program.command('wal').description('continuous WAL archiving');
  registerWalArchive(wal, context);
  registerWalFetch(wal, context);
  registerVerify(program, context);
  registerCheck(program, context);
  registerRestore(program, context);
  registerRestorePoint(program, context);
  return program;
}

/** Run the CLI with `argv` (as process.argv) and return the exit code. */
export async function main(argv: readonly string[], options: MainOptions = {}): Promise<number> {
  const env = options.env ?? process.env;
  const out = options.out ?? ((text: string) => process.stdout.write(`${text}\n`));
  const err = options.err ?? ((text: string) => process.stderr.write(`${text}\n`));
  const abort = new AbortController();
  // Every stream of a long command listens on this one signal; dozens at once are expected, not a leak.
  setMaxListeners(1000, abort.signal);
  const onSignal = (): void => abort.abort(new Error('interrupted by signal'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let context: CommandContext | undefined;
  const program = createProgram(() => {
    context ??= createCommandContext({ configPath: program.opts<{ config?: string }>().config, env, signal: abort.signal, out });
    return context;
  }, err);
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit through here with code 0.
      return error.exitCode === 0 ? 0 : ERROR_CODES.usage;
    }
    const report = formatErrorReport(error);
    err(report.text);
    return report.exitCode;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
