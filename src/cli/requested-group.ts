// The command group and subcommand a command line asks for, read before anything else loads: main.ts loads only
// that group's modules, and bin/lifeboat.js picks the process's memory profile from it. Imports nothing.

/** The command group and subcommand named in `argv` (skipping global options), if any. */
export function requestedGroup(argv: readonly string[]): [string | undefined, string | undefined] {
  const args = argv.slice(2);
  const words: string[] = [];
  for (let i = 0; i < args.length && words.length < 2; i++) {
    const arg = args[i]!;
    if (arg === '-c' || arg === '--config') i += 1;
    else if (!arg.startsWith('-')) words.push(arg);
    else if (words.length > 0) break;
  }
  return [words[0], words[1]];
}
