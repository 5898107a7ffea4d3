// The lifeboat CLI: a thin adapter that parses arguments, calls a run* function, and maps the result to an
// exit code. Commands live in ./commands, one file each.
import { setMaxListeners } from 'node:events';
import { Command, CommanderError } from 'commander';
import { ERROR_CODES, interruptReason } from '../errors/index.js';
import { createCommandContext, type CommandContext } from './command-context.js';
import { formatErrorReport } from './report-error.js';
import { requestedGroup } from './requested-group.js';
import { asInterrupted } from './report-interrupt.js';
import { commandWords, usageErrorFromCommander } from './usage-error.js';
import { LIFEBOAT_VERSION } from './version.js';

export interface MainOptions {
  env?: NodeJS.ProcessEnv;
  out?: (text: string) => void;
  err?: (text: string) => void;
}

type Register = (parent: Command, context: () => CommandContext) => void;

/**
 * Command groups, each loaded only when asked for: `wal fetch` runs once per WAL segment during a restore, so
 * its start-up must not pay for the AWS SDK, pg and every other command's modules.
 */
const GROUPS: Record<string, { description?: string; load: (subcommand: string | undefined) => Promise<Register[]> }> = {
  config: { description: 'inspect the configuration', load: async () => [(await import('./commands/config-check.js')).registerConfigCheck] },
  backup: {
    description: 'take backups',
    load: async () => [(await import('./commands/backup-full.js')).registerBackupFull, (await import('./commands/backup-incremental.js')).registerBackupIncremental],
  },
  backups: { description: 'the backup catalog', load: async () => [(await import('./commands/backups-list.js')).registerBackupsList] },
  wal: {
    description: 'continuous WAL archiving, and fetching WAL for recovery',
    load: async (sub) => [
      ...(sub !== 'fetch' ? [(await import('./commands/wal-archive.js')).registerWalArchive] : []),
      ...(sub !== 'archive' ? [(await import('./commands/wal-fetch.js')).registerWalFetch] : []),
    ],
  },
  verify: { load: async () => [(await import('./commands/verify.js')).registerVerify] },
  check: { load: async () => [(await import('./commands/check.js')).registerCheck] },
  daemon: { load: async () => [(await import('./commands/daemon.js')).registerDaemon] },
  jobs: {
    description: 'jobs run by the daemons',
    load: async () => [(await import('./commands/jobs-run.js')).registerJobsRun, (await import('./commands/jobs-list.js')).registerJobsList],
  },
  schedules: { description: 'pause and resume scheduled runs', load: async () => [(await import('./commands/schedules.js')).registerSchedules] },
  status: { load: async () => [(await import('./commands/status.js')).registerStatus] },
  restore: { load: async () => [(await import('./commands/restore.js')).registerRestore] },
  'restore-point': { load: async () => [(await import('./commands/restore-point.js')).registerRestorePoint] },
  cluster: { description: "manage a cluster's footprint on its server", load: async () => [(await import('./commands/cluster-drop-slots.js')).registerClusterDropSlots] },
  repository: { description: 'the repository itself', load: async () => [(await import('./commands/repository-init.js')).registerRepositoryInit] },
};

/** Build the command tree: only the requested group, or every group for help and unknown commands. */
async function createProgram(argv: readonly string[], context: () => CommandContext, err: (text: string) => void): Promise<Command> {
  const program = new Command('lifeboat')
    .description('PostgreSQL backups, point-in-time restore and disaster recovery')
    .version(LIFEBOAT_VERSION, '-V, --version')
    .option('-c, --config <file>', 'config file (default: $LIFEBOAT_CONFIG, else ./lifeboat.yaml)')
    .exitOverride()
    // Commander's own errors are reported by main(), in the error[usage] format (usage-error.ts).
    .configureOutput({ writeErr: (text) => err(text.replace(/\n$/, '')), outputError: () => undefined });
  const [requested, subcommand] = requestedGroup(argv);
  const names = requested !== undefined && requested in GROUPS ? [requested] : Object.keys(GROUPS);
  for (const name of names) {
    const group = GROUPS[name]!;
    // Groups with a description hold subcommands; the others register a top-level command themselves.
    const parent = group.description ? program.command(name).description(group.description) : program;
    for (const register of await group.load(names.length === 1 ? subcommand : undefined)) register(parent, context);
  }
  return program;
}

/** Run the CLI with `argv` (as process.argv) and return the exit code. */
export async function main(argv: readonly string[], options: MainOptions = {}): Promise<number> {
  const env = options.env ?? process.env;
  const out = options.out ?? ((text: string) => process.stdout.write(`${text}\n`));
  const err = options.err ?? ((text: string) => process.stderr.write(`${text}\n`));
  // --version alone needs no command group: answer before loading any (0.14 s of CPU instead of 0.36 s).
  const args = argv.slice(2);
  if (commandWords(argv).length === 0 && args.some((a) => a === '-V' || a === '--version') && !args.some((a) => a === '-h' || a === '--help')) {
    out(LIFEBOAT_VERSION);
    return 0;
  }
  const abort = new AbortController();
  // Every stream of a long command listens on this one signal; dozens at once are expected, not a leak.
  setMaxListeners(1000, abort.signal);
  // The reason is an `aborted` error naming the signal, so an interrupted command exits 90, never 99.
  const onSignal = (signalName: NodeJS.Signals): void => abort.abort(interruptReason(signalName));
  const [group, subcommand] = requestedGroup(argv);
  const commandName = group !== undefined && group in GROUPS ? (GROUPS[group]!.description && subcommand ? `${group} ${subcommand}` : group) : 'lifeboat';
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let context: CommandContext | undefined;
  const program = await createProgram(argv, () => {
    context ??= createCommandContext({ configPath: program.opts<{ config?: string }>().config, env, signal: abort.signal, out });
    return context;
  }, err);
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit through here with code 0; help shown for a missing command (already on stderr)
      // with code 1; everything else is a usage error commander did not print.
      if (error.exitCode === 0) return 0;
      if (error.code === 'commander.help') return ERROR_CODES.usage;
      err(formatErrorReport(usageErrorFromCommander(error, program, argv)).text);
      return ERROR_CODES.usage;
    }
    const report = formatErrorReport(asInterrupted(error, commandName, abort.signal, context?.log));
    err(report.text);
    return report.exitCode;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
