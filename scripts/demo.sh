#!/usr/bin/env bash
# The main job on the embedded default, end to end on a fresh machine, run by the daemon: a scratch PostgreSQL
# (own temp dir and port, scram auth, a least-privilege replication role) under light pgbench load, a scratch
# Redis (redis-server on a free port, persistence off, password from a secret reference), a local folder
# repository and key file; lifeboat check, continuous WAL archiving, then `lifeboat daemon` with second-level
# schedules until it has done a full backup, an incr and a verify, `lifeboat status`, a graceful daemon stop, and
# a restore drill (RPO and RTO measured against targets), a restore of the latest WAL into a second scratch server
# whose row count must match the source's.
# LIFEBOAT_DEMO_SCALE (pgbench scale, default 10) shrinks it for tests; LIFEBOAT_DEMO_DAEMON_TIMEOUT_SECONDS
# (default 240) bounds the wait for the daemon's runs; LIFEBOAT_DEMO_SKIP_BUILD=1 uses the dist/ already built.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -d node_modules ] || npm ci --no-audit --no-fund
[ -n "${LIFEBOAT_DEMO_SKIP_BUILD:-}" ] || npm run -s build

for program in redis-server redis-cli; do
  command -v "$program" >/dev/null || { echo "the demo needs $program (Debian/Ubuntu: apt-get install redis-server)" >&2; exit 1; }
done
scale=${LIFEBOAT_DEMO_SCALE:-10}
daemon_timeout=${LIFEBOAT_DEMO_DAEMON_TIMEOUT_SECONDS:-240}
bindir=$(pg_config --bindir 2>/dev/null || ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
work=$(mktemp -d /tmp/lifeboat-demo.XXXXXX)
chmod 755 "$work"
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
port=$(free_port)
restore_port=$(free_port)
redis_port=$(free_port)

# Run as root, everything that touches PostgreSQL's files runs as the postgres OS user, Lifeboat included, as it
# would on a database host: a restored server's restore_command runs as that user and must read the repository,
# which Lifeboat creates 0700 for whoever runs it (a root-owned one is refused by the restore). setpriv execs
# (unlike runuser, which forks and SIGKILLs its child 2 s after a SIGTERM), so `$!` of a backgrounded command is
# lifeboat's own pid and a SIGTERM reaches it: never wrap a backgrounded command in a shell function (`$!` would
# be a subshell's pid, and killing that leaves lifeboat running).
as_pg=()
if [ "$(id -u)" = 0 ]; then
  as_pg=(setpriv --reuid=postgres --regid=postgres --init-groups env HOME="$(getent passwd postgres | cut -d: -f6)" USER=postgres LOGNAME=postgres)
fi
lifeboat=("${as_pg[@]}" ./bin/lifeboat.js --config "$work/lifeboat/lifeboat.yaml")

# True while the process runs (a child that exited stays a zombie until `wait`: that counts as gone).
running() { [ -r "/proc/$1/stat" ] && [ "$(sed 's/^.*) //' "/proc/$1/stat" | cut -c1)" != Z ]; }
# SIGTERM, up to $2 s to exit, then SIGKILL; reaps it. The daemon's job children watch it and stop with it.
stop_process() {
  kill -TERM "$1" 2>/dev/null || return 0
  for _ in $(seq $(($2 * 5))); do running "$1" || break; sleep 0.2; done
  running "$1" && kill -KILL "$1" 2>/dev/null
  wait "$1" 2>/dev/null || true
}

load_pid=""
daemon_pid=""
archiver_pid=""
redis_pid=""
cleanup() {
  status=$?
  set +e
  [ -n "$load_pid" ] && stop_process "$load_pid" 10
  [ -n "$daemon_pid" ] && stop_process "$daemon_pid" 40
  [ -n "$archiver_pid" ] && stop_process "$archiver_pid" 30
  [ -n "$redis_pid" ] && stop_process "$redis_pid" 10
  for pgdata in "$work/restore/pgdata" "$work/pgdata"; do
    [ -f "$pgdata/postmaster.pid" ] && "${as_pg[@]}" "$bindir/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null 2>&1
  done
  echo "demo files kept in $work (repository: $work/lifeboat/repo, logs: $work/*.log)"
  exit "$status"
}
trap cleanup EXIT
# Without these, a SIGINT/SIGTERM to the demo would end it without running cleanup.
trap 'exit 130' INT
trap 'exit 143' TERM

echo "== scratch PostgreSQL on 127.0.0.1:$port"
mkdir -p "$work/pgdata" "$work/lifeboat" "$work/restore" "$work/redis"
[ ${#as_pg[@]} -eq 0 ] || chown postgres: "$work/pgdata" "$work/lifeboat" "$work/restore"
superpass=$(head -c 18 /dev/urandom | base64); export LIFEBOAT_DEMO_PGPASSWORD=$(head -c 18 /dev/urandom | base64)
(umask 077 && printf '%s\n' "$superpass" > "$work/superpass") && { [ ${#as_pg[@]} -eq 0 ] || chown postgres: "$work/superpass"; }
"${as_pg[@]}" "$bindir/initdb" -D "$work/pgdata" -U postgres --pwfile="$work/superpass" --auth-local=trust --auth-host=scram-sha-256 >/dev/null
# archive_timeout switches WAL files every 10 s while anything is written (archive_mode is not needed for that):
# under light load a segment then completes in seconds, so the daemon's incr has WAL to seal.
cat >> "$work/pgdata/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$work/pgdata'
wal_level = replica
track_commit_timestamp = on
archive_timeout = 10
CONF
echo "host replication lifeboat 127.0.0.1/32 scram-sha-256" >> "$work/pgdata/pg_hba.conf"
"${as_pg[@]}" "$bindir/pg_ctl" -D "$work/pgdata" -l "$work/pgdata/postgres.log" -w start >/dev/null
psql_at() { PGPASSWORD=$superpass "$bindir/psql" -X -q -At -h 127.0.0.1 -p "$1" -U postgres -d postgres "${@:2}"; }
psql_at "$port" -c "create role lifeboat login replication password '$LIFEBOAT_DEMO_PGPASSWORD'; grant execute on function pg_catalog.pg_ls_waldir() to lifeboat; grant execute on function pg_catalog.pg_create_restore_point(text) to lifeboat; create schema lifeboat authorization lifeboat;" >/dev/null

# A scratch Redis for the daemon: loopback only, no persistence, its password in a 0600 config file (never on a
# command line) and handed to Lifeboat through a secret reference (env).
echo "== scratch Redis on 127.0.0.1:$redis_port"
export LIFEBOAT_DEMO_REDIS_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
(umask 077 && cat > "$work/redis/redis.conf" <<CONF
bind 127.0.0.1
port $redis_port
dir $work/redis
save ""
appendonly no
requirepass $LIFEBOAT_DEMO_REDIS_PASSWORD
CONF
)
redis-server "$work/redis/redis.conf" >"$work/redis.log" 2>&1 &
redis_pid=$!
redis_ping() { [ "$(REDISCLI_AUTH=$LIFEBOAT_DEMO_REDIS_PASSWORD redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null)" = PONG ]; }
for _ in $(seq 100); do
  redis_ping && break
  running "$redis_pid" || break
  sleep 0.1
done
redis_ping || { echo "redis-server did not answer on 127.0.0.1:$redis_port; its log:" >&2; cat "$work/redis.log" >&2; exit 1; }

# Second-level schedules (6 fields, leading seconds) anchored a few seconds from now, so that the first run is a
# full backup: full every 30 s, an incr 10, 20 and 40 s after each full (every 10 s except when the full runs;
# an incr that meets a running full is skipped, named), a verify 15 and 45 s after it.
at() { echo $(( (base + $1) % 60 )); }
base=$(( ($(date +%s) + 12) % 60 ))
schedule_full="$(at 0),$(at 30) * * * * *"
schedule_incr="$(at 10),$(at 20),$(at 40) * * * * *"
schedule_verify="$(at 15),$(at 45) * * * * *"
"${as_pg[@]}" tee "$work/lifeboat/lifeboat.yaml" >/dev/null <<YAML
clusters:
  - name: main
    postgres: { host: 127.0.0.1, port: $port, user: lifeboat, dbname: postgres, password: { env: LIFEBOAT_DEMO_PGPASSWORD }, sslmode: disable, bindir: $bindir }
    wal: { partialUploadIntervalSeconds: 10 }
    schedules: { full: "$schedule_full", incr: "$schedule_incr", verify: "$schedule_verify" }
    drill: { heartbeatSeconds: 2, targets: { rpoSeconds: 60, rtoSeconds: 300 } }
repository: { driver: fs, path: ./repo }
encryption: { provider: local, keyFile: ./keys/lifeboat.key }
stateDir: ./state
redis: { url: "redis://127.0.0.1:$redis_port/0", password: { env: LIFEBOAT_DEMO_REDIS_PASSWORD }, prefix: demo }
daemon: { listen: "127.0.0.1:0", shutdownTimeoutSeconds: 30 }
YAML
export LIFEBOAT_LOG_LEVEL=${LIFEBOAT_LOG_LEVEL:-warn}

echo "== lifeboat check"
"${lifeboat[@]}" check
echo "== lifeboat wal archive (background)"
"${lifeboat[@]}" wal archive 2>"$work/archiver.log" &
archiver_pid=$!
echo "== pgbench -i -s $scale, then light pgbench load in the background"
PGPASSWORD=$superpass "$bindir/pgbench" -q -i -s "$scale" -h 127.0.0.1 -p "$port" -U postgres postgres >/dev/null 2>&1
PGPASSWORD=$superpass "$bindir/pgbench" -n -c 2 -R 50 -T 3600 -h 127.0.0.1 -p "$port" -U postgres postgres >/dev/null 2>&1 &
load_pid=$!

echo "== lifeboat daemon (background): full \"$schedule_full\", incr \"$schedule_incr\", verify \"$schedule_verify\""
LIFEBOAT_LOG_LEVEL=info "${lifeboat[@]}" daemon >"$work/daemon.log" 2>&1 &
daemon_pid=$!

# Wait until the daemon's run records show a full and an incr that each stored a backup, and a verify that
# started after that full ended (so it read a backup). Prints one line naming them.
echo "== waiting (up to $daemon_timeout s) for the daemon to run a full backup, an incr and a verify"
did=""
deadline=$(( $(date +%s) + daemon_timeout ))
while [ -z "$did" ]; do
  running "$daemon_pid" || { echo "the daemon exited early; its log:" >&2; tail -20 "$work/daemon.log" >&2; exit 1; }
  [ "$(date +%s)" -lt "$deadline" ] || { echo "the daemon did not run full, incr and verify within $daemon_timeout s:" >&2; "${lifeboat[@]}" jobs list >&2; exit 1; }
  sleep 2
  did=$("${lifeboat[@]}" jobs list --json --limit 500 2>/dev/null | node -e '
    let input = ""; process.stdin.on("data", (c) => (input += c)).on("end", () => {
      const runs = JSON.parse(input).runs.filter((r) => r.state === "done" && r.daemonId).reverse();
      const full = runs.find((r) => r.kind === "full" && r.backupId);
      const incr = full && runs.find((r) => r.kind === "incr" && r.backupId && r.startedAt >= full.endedAt);
      const verify = full && runs.find((r) => r.kind === "verify" && r.startedAt >= full.endedAt);
      if (full && incr && verify) console.log(`the daemon did full ${full.backupId}, incr ${incr.backupId}, verify (${verify.message})`);
    });' 2>/dev/null) || did=""
done
echo "== $did"
echo "== lifeboat status"
"${lifeboat[@]}" status

# While the daemon, the archiver and the load run, as in production: a disaster now, restored into a scratch server.
echo "== lifeboat drill run: a disaster now, restored into a scratch server; RPO (heartbeat) and RTO (by phase)"
"${lifeboat[@]}" drill run --markdown "$work/lifeboat/drill.md" || { echo "the drill failed (report: $work/lifeboat/drill.md)" >&2; exit 1; }

echo "== stop the daemon (SIGTERM)"
kill -TERM "$daemon_pid"
daemon_status=0
wait "$daemon_pid" || daemon_status=$?
daemon_pid=""
if [ "$daemon_status" != 0 ]; then
  echo "the daemon exited $daemon_status on SIGTERM (0 expected); its log: $work/daemon.log" >&2
  exit 1
fi
echo "== daemon stopped (exit 0)"
stop_process "$load_pid" 10
load_pid=""
echo "== lifeboat backups list"
"${lifeboat[@]}" backups list

# A graceful stop ships the last partial segment: from here on the repository holds every commit of the source.
echo "== stop wal archive"
source_rows=$(psql_at "$port" -c 'select count(*) from pgbench_history')
kill -TERM "$archiver_pid"
wait "$archiver_pid"
archiver_pid=""

echo "== lifeboat restore --latest --start into a scratch folder on 127.0.0.1:$restore_port"
"${lifeboat[@]}" restore --target-dir "$work/restore/pgdata" --latest --start --port "$restore_port"
restored_rows=$(psql_at "$restore_port" -c 'select count(*) from pgbench_history')
"${as_pg[@]}" "$bindir/pg_ctl" -D "$work/restore/pgdata" -m fast -w stop >/dev/null
if [ "$restored_rows" != "$source_rows" ]; then
  echo "restore check FAILED: the restored pgbench_history holds $restored_rows rows, the source $source_rows" >&2
  exit 1
fi
echo "== restore check passed: pgbench_history holds $restored_rows rows in the restored server and the source"
