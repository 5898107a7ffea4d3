// `lifeboat daemon`: run the schedules of the config through BullMQ on the shared Redis until SIGTERM/SIGINT.
import type { Command } from 'commander';
import { runDaemon } from '../../daemon/run-daemon.js';
import type { CommandContext } from '../command-context.js';
import { LIFEBOAT_VERSION } from '../version.js';

export function registerDaemon(program: Command, context: () => CommandContext): void {
  program
    .command('daemon')
    .description('run every schedule (full, diff, incr, verify) through Redis, each due run once across all daemons')
    .action(async () => {
      const ctx = context();
      await runDaemon({ config: ctx.config(), log: ctx.log, env: ctx.env, signal: ctx.signal, lifeboatVersion: LIFEBOAT_VERSION });
    });
}
