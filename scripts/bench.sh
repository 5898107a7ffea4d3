#!/usr/bin/env bash
# Benchmarks (not tests; run by hand, the output goes into README.md): compiles bench/ with src/ and the test
# harness into dist-bench/, then runs the cases and prints Markdown tables; figures go to bench/out/*.json.
# Usage: npm run bench -- [--quick] [--fresh-data] [case ...]   (`npm run bench -- --help` lists the cases)
# The full run takes 25-35 minutes on 2 cores (the daemon case idles 10), plus about 30 for vs-pgbackrest; --quick
# (small data) about 7. replay-tuning (30 minutes) runs only when named. Run it on an otherwise idle host.
set -euo pipefail
cd "$(dirname "$0")/.."

# One run at a time per host: two runs disturb each other's timings, and each rebuilds dist-bench/.
lock=bench/out/.bench.lock
if [ -z "${LIFEBOAT_BENCH_LOCKED:-}" ]; then
  mkdir -p bench/out
  export LIFEBOAT_BENCH_LOCKED=1
  flock -n "$lock" true || echo "waiting for another npm run bench on this host to finish" >&2
  exec flock -o "$lock" bash "$0" "$@"
fi

if [ ! -d node_modules ]; then
  npm ci --no-audit --no-fund
fi
bash scripts/ensure-moto.sh
# The vs-pgbackrest case needs pgBackRest: installed from Debian's packages when that case is selected (or all are).
cases_given=$(printf '%s\n' "$@" | grep -v '^-' || true)
if { [ -z "$cases_given" ] && [ -z "${BENCH_CASES:-}" ]; } || printf '%s %s' "$cases_given" "${BENCH_CASES:-}" | grep -qi pgbackrest; then
  bash scripts/ensure-pgbackrest.sh
fi
command -v zstd >/dev/null && command -v gzip >/dev/null && [ -x /usr/bin/time ] || {
  echo "bench needs zstd, gzip and GNU time (/usr/bin/time) on PATH" >&2
  exit 1
}

# The AWS SDK's "node >= 22 from January 2027" notice would repeat in every child process of the run.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true

rm -rf dist-bench
node node_modules/typescript/bin/tsc -p tsconfig.bench.json
# The harness finds moto relative to its own file, which now sits one folder deeper, in dist-bench/.
ln -sfn ../.venv-moto dist-bench/.venv-moto
# A restore's restore_command is bin/lifeboat.js next to the code that wrote it; it runs the built dist/.
npm run -s build
ln -sfn ../bin dist-bench/bin
exec node dist-bench/bench/run-bench.js "$@"
