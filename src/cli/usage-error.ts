// Commander's own parse errors (a missing required option, an unknown option or command, a missing argument) as
// lifeboat reports every error: `error[usage]: ...` with a HINT naming the help of the command that was meant.
import type { Command, CommanderError } from 'commander';
import { LifeboatError } from '../errors/index.js';

/** The words of `argv` (as process.argv) that are not options, skipping the value of a global --config. */
export function commandWords(argv: readonly string[]): string[] {
  const args = argv.slice(2);
  const words: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '-c' || arg === '--config') i += 1;
    else if (!arg.startsWith('-')) words.push(arg);
  }
  return words;
}

/** `lifeboat` followed by as many of `words` as name commands in `program`'s tree. */
function commandPath(program: Command, words: readonly string[]): string {
  const path = [program.name()];
  let command = program;
  for (const word of words) {
    const sub = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!sub) break;
    path.push(word);
    command = sub;
  }
  return path.join(' ');
}

/** A usage LifeboatError for commander's `error`, its hint naming `lifeboat <the command> --help`. */
export function usageErrorFromCommander(error: CommanderError, program: Command, argv: readonly string[]): LifeboatError {
  // Commander's message is "error: <what>", sometimes followed by a line "(Did you mean x?)".
  const [first = error.message, ...more] = error.message.split('\n');
  const suggestions = more.map((line) => line.trim().replace(/^\((.*)\)$/, '$1')).filter((line) => line !== '');
  const help = `run \`${commandPath(program, commandWords(argv))} --help\` for usage`;
  // "did you mean full? Or run ..." reads as one sentence; a bare "?;" did not.
  const hint = suggestions.length > 0 ? `${suggestions.map((s) => s.replace(/^D/, 'd')).join(' ')} Or ${help}` : help;
  return new LifeboatError('usage', first.replace(/^error: /, ''), { hint });
}
