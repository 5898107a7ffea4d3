#!/usr/bin/env bash
# The main job on the embedded default, end to end on a fresh machine: a scratch PostgreSQL (own temp dir and
# port, scram auth, a least-privilege replication role), a local folder repository and a local key file; then
# lifeboat check, continuous WAL archiving, a full backup under pgbench load, an increment, the catalog, verify,
# and a restore of the latest WAL into a second scratch server whose row count must match the source's.
# LIFEBOAT_DEMO_SCALE (pgbench scale, default 10) and LIFEBOAT_DEMO_LOAD_SECONDS (default 15) shrink it for tests;
# LIFEBOAT_DEMO_SKIP_BUILD=1 uses the dist/ already built.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -d node_modules ] || npm ci --no-audit --no-fund
[ -n "${LIFEBOAT_DEMO_SKIP_BUILD:-}" ] || npm run -s build

scale=${LIFEBOAT_DEMO_SCALE:-10}
load_seconds=${LIFEBOAT_DEMO_LOAD_SECONDS:-15}
bindir=$(pg_config --bindir 2>/dev/null || ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
work=$(mktemp -d /tmp/lifeboat-demo.XXXXXX)
chmod 755 "$work"
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
port=$(free_port)
restore_port=$(free_port)

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

archiver_pid=""
load_pid=""
cleanup() {
  status=$?
  set +e
  [ -n "$load_pid" ] && kill -TERM "$load_pid" 2>/dev/null && wait "$load_pid" 2>/dev/null
  [ -n "$archiver_pid" ] && kill -TERM "$archiver_pid" 2>/dev/null && wait "$archiver_pid" 2>/dev/null
  for pgdata in "$work/restore/pgdata" "$work/pgdata"; do
    [ -f "$pgdata/postmaster.pid" ] && "${as_pg[@]}" "$bindir/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null 2>&1
  done
  echo "demo files kept in $work (repository: $work/lifeboat/repo)"
  exit "$status"
}
trap cleanup EXIT
# Without these, a SIGINT/SIGTERM to the demo would end it without running cleanup.
trap 'exit 130' INT
trap 'exit 143' TERM

echo "== scratch PostgreSQL on 127.0.0.1:$port"
mkdir -p "$work/pgdata" "$work/lifeboat" "$work/restore"
[ ${#as_pg[@]} -eq 0 ] || chown postgres: "$work/pgdata" "$work/lifeboat" "$work/restore"
superpass=$(head -c 18 /dev/urandom | base64); export LIFEBOAT_DEMO_PGPASSWORD=$(head -c 18 /dev/urandom | base64)
(umask 077 && printf '%s\n' "$superpass" > "$work/superpass") && { [ ${#as_pg[@]} -eq 0 ] || chown postgres: "$work/superpass"; }
"${as_pg[@]}" "$bindir/initdb" -D "$work/pgdata" -U postgres --pwfile="$work/superpass" --auth-local=trust --auth-host=scram-sha-256 >/dev/null
cat >> "$work/pgdata/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$work/pgdata'
wal_level = replica
track_commit_timestamp = on
CONF
echo "host replication lifeboat 127.0.0.1/32 scram-sha-256" >> "$work/pgdata/pg_hba.conf"
"${as_pg[@]}" "$bindir/pg_ctl" -D "$work/pgdata" -l "$work/pgdata/postgres.log" -w start >/dev/null
psql_at() { PGPASSWORD=$superpass "$bindir/psql" -X -q -At -h 127.0.0.1 -p "$1" -U postgres -d postgres "${@:2}"; }
psql_at "$port" -c "create role lifeboat login replication password '$LIFEBOAT_DEMO_PGPASSWORD'; grant execute on function pg_catalog.pg_ls_waldir() to lifeboat; grant execute on function pg_catalog.pg_create_restore_point(text) to lifeboat;" >/dev/null

"${as_pg[@]}" tee "$work/lifeboat/lifeboat.yaml" >/dev/null <<YAML
clusters:
  - name: main
    postgres: { host: 127.0.0.1, port: $port, user: lifeboat, dbname: postgres, password: { env: LIFEBOAT_DEMO_PGPASSWORD }, sslmode: disable, bindir: $bindir }
    wal: { partialUploadIntervalSeconds: 10 }
repository: { driver: fs, path: ./repo }
encryption: { provider: local, keyFile: ./keys/lifeboat.key }
stateDir: ./state
YAML
export LIFEBOAT_LOG_LEVEL=${LIFEBOAT_LOG_LEVEL:-warn}

echo "== lifeboat check"
"${lifeboat[@]}" check
echo "== lifeboat wal archive (background)"
"${lifeboat[@]}" wal archive 2>"$work/archiver.log" &
archiver_pid=$!
echo "== pgbench -i -s $scale, then a full backup under pgbench load"
PGPASSWORD=$superpass "$bindir/pgbench" -q -i -s "$scale" -h 127.0.0.1 -p "$port" -U postgres postgres >/dev/null 2>&1
PGPASSWORD=$superpass "$bindir/pgbench" -n -c 4 -T "$load_seconds" -h 127.0.0.1 -p "$port" -U postgres postgres >/dev/null 2>&1 &
load_pid=$!
"${lifeboat[@]}" backup full
wait "$load_pid"
load_pid=""

# Seal what the load wrote: switch WAL and wait (up to 60 s) until the archiver has stored the segment it closed.
segment=$(psql_at "$port" -c 'select pg_walfile_name(pg_switch_wal())')
for _ in $(seq 120); do
  [ -n "$(find "$work/lifeboat/repo" -name "$segment-*" -print -quit)" ] && break
  sleep 0.5
done
echo "== lifeboat backup incremental"
"${lifeboat[@]}" backup incremental
echo "== lifeboat backups list"
"${lifeboat[@]}" backups list
echo "== lifeboat verify"
"${lifeboat[@]}" verify

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
