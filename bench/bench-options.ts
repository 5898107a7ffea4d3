// Command line of `npm run bench`: which cases to run and at what size. Cases can also come from BENCH_CASES
// (comma-separated); `--quick` shrinks every data set for a smoke run of a few minutes.

export const CASE_NAMES = ['pipeline', 'full-backup', 'wal-archive', 'wal-scan', 'restore', 'daemon', 'archiver-soak', 'vs-pgbackrest', 'replay-tuning'] as const;
export type CaseName = (typeof CASE_NAMES)[number];
/** Run only when named: a measurement behind a design decision (README says which), not a figure to track. */
const ON_REQUEST: readonly CaseName[] = ['replay-tuning'];

const ALIASES: Readonly<Record<string, CaseName>> = { backup: 'full-backup', wal: 'wal-archive', walscan: 'wal-scan', scan: 'wal-scan', soak: 'archiver-soak', pgbackrest: 'vs-pgbackrest', replay: 'replay-tuning' };

export interface BenchOptions {
  cases: CaseName[];
  quick: boolean;
  /** Rebuild the cached input files under bench/out/data. */
  freshData: boolean;
}

export const USAGE = `usage: npm run bench -- [--quick] [--fresh-data] [case ...]
cases: ${CASE_NAMES.join(', ')} (aliases: ${Object.keys(ALIASES).join(', ')}); default: all but ${ON_REQUEST.join(', ')}. BENCH_CASES=a,b works too.
--quick       small data (128 MiB, pgbench scale 10), fewer runs, 1 minute of daemon idling and of archiver soak: a smoke run of about 8 minutes
--fresh-data  rebuild the cached inputs in bench/out/data
BENCH_CPU_PROF=<dir>  write a V8 CPU profile of every benchmark child process into <dir>`;

export function parseBenchOptions(argv: readonly string[], env: NodeJS.ProcessEnv): BenchOptions | 'help' {
  const names: string[] = [];
  let quick = false;
  let freshData = false;
  for (const arg of argv) {
    if (arg === '--quick') quick = true;
    else if (arg === '--fresh-data') freshData = true;
    else if (arg === '--help' || arg === '-h') return 'help';
    else if (arg.startsWith('-')) throw new Error(`unknown option ${arg}\n${USAGE}`);
    else names.push(arg);
  }
  if (names.length === 0 && env.BENCH_CASES) names.push(...env.BENCH_CASES.split(',').filter((name) => name.trim() !== ''));
  const cases = names.map((raw) => {
    const name = raw.trim().toLowerCase();
    const resolved = ALIASES[name] ?? CASE_NAMES.find((known) => known === name);
    if (resolved === undefined) throw new Error(`unknown case "${raw}"\n${USAGE}`);
    return resolved;
  });
  return { cases: cases.length === 0 ? CASE_NAMES.filter((name) => !ON_REQUEST.includes(name)) : [...new Set(cases)], quick, freshData };
}
