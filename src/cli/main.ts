// The lifeboat CLI's entry: answers `--version` before loading anything (commander alone costs ~10 MB and
// 20 ms), then hands over to run-cli.ts, which loads only the requested command group.
import { commandWords } from './usage-error.js';
import { LIFEBOAT_VERSION } from './version.js';

export interface MainOptions {
  env?: NodeJS.ProcessEnv;
  out?: (text: string) => void;
  err?: (text: string) => void;
}

/** Run the CLI with `argv` (as process.argv) and return the exit code. */
export async function main(argv: readonly string[], options: MainOptions = {}): Promise<number> {
  const env = options.env ?? process.env;
  const out = options.out ?? ((text: string) => process.stdout.write(`${text}\n`));
  const err = options.err ?? ((text: string) => process.stderr.write(`${text}\n`));
  const args = argv.slice(2);
  if (commandWords(argv).length === 0 && args.some((a) => a === '-V' || a === '--version') && !args.some((a) => a === '-h' || a === '--help')) {
    out(LIFEBOAT_VERSION);
    return 0;
  }
  const { runCli } = await import('./run-cli.js');
  return runCli(argv, { env, out, err });
}
