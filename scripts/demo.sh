#!/usr/bin/env bash
# The main job on the embedded default, end to end on a fresh machine: a scratch PostgreSQL (own temp dir and
# port, scram auth, a least-privilege replication role), a local folder repository and a local key file; then
# lifeboat check, continuous WAL archiving, a full backup under pgbench load, an increment, the catalog, verify.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -d node_modules ] || npm ci --no-audit --no-fund
npm run -s build

bindir=$(pg_config --bindir 2>/dev/null || ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
work=$(mktemp -d /tmp/lifeboat-demo.XXXXXX)
chmod 755 "$work"
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

archiver_pid=""
cleanup() {
  [ -n "$archiver_pid" ] && kill -TERM "$archiver_pid" 2>/dev/null && wait "$archiver_pid" 2>/dev/null || true
  as_pg "$bindir/pg_ctl" -D "$work/pgdata" -m fast stop >/dev/null 2>&1 || true
  echo "demo files kept in $work (repository: $work/lifeboat/repo)"
}
trap cleanup EXIT

echo "== scratch PostgreSQL on 127.0.0.1:$port"
mkdir -p "$work/pgdata" "$work/lifeboat" && chown postgres: "$work/pgdata" 2>/dev/null || true
superpass=$(head -c 18 /dev/urandom | base64); export LIFEBOAT_DEMO_PGPASSWORD=$(head -c 18 /dev/urandom | base64)
printf '%s\n' "$superpass" > "$work/superpass" && chown postgres: "$work/superpass" 2>/dev/null || true
as_pg "$bindir/initdb" -D "$work/pgdata" -U postgres --pwfile="$work/superpass" --auth-local=trust --auth-host=scram-sha-256 >/dev/null
cat >> "$work/pgdata/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$work/pgdata'
wal_level = replica
track_commit_timestamp = on
CONF
echo "host replication lifeboat 127.0.0.1/32 scram-sha-256" >> "$work/pgdata/pg_hba.conf"
as_pg "$bindir/pg_ctl" -D "$work/pgdata" -l "$work/pgdata/postgres.log" -w start >/dev/null
psql_super() { PGPASSWORD=$superpass "$bindir/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres "$@"; }
psql_super -c "create role lifeboat login replication password '$LIFEBOAT_DEMO_PGPASSWORD'; grant execute on function pg_catalog.pg_ls_waldir() to lifeboat; grant execute on function pg_catalog.pg_create_restore_point(text) to lifeboat;" >/dev/null

cat > "$work/lifeboat/lifeboat.yaml" <<YAML
clusters:
  - name: main
    postgres: { host: 127.0.0.1, port: $port, user: lifeboat, dbname: postgres, password: { env: LIFEBOAT_DEMO_PGPASSWORD }, sslmode: disable, bindir: $bindir }
    wal: { partialUploadIntervalSeconds: 10 }
repository: { driver: fs, path: ./repo }
encryption: { provider: local, keyFile: ./keys/lifeboat.key }
stateDir: ./state
YAML
lifeboat() { ./bin/lifeboat.js --config "$work/lifeboat/lifeboat.yaml" "$@"; }
export LIFEBOAT_LOG_LEVEL=${LIFEBOAT_LOG_LEVEL:-warn}

echo "== lifeboat check"
lifeboat check
echo "== lifeboat wal archive (background)"
lifeboat wal archive 2>"$work/archiver.log" &
archiver_pid=$!
echo "== pgbench -i -s 10, then a full backup under pgbench load"
PGPASSWORD=$superpass "$bindir/pgbench" -q -i -s 10 -h 127.0.0.1 -p "$port" -U postgres postgres >/dev/null 2>&1
PGPASSWORD=$superpass "$bindir/pgbench" -n -c 4 -T 15 -h 127.0.0.1 -p "$port" -U postgres postgres >/dev/null 2>&1 &
load_pid=$!
lifeboat backup full
wait "$load_pid"
psql_super -c 'select pg_switch_wal()' >/dev/null
sleep 3
echo "== lifeboat backup incremental"
lifeboat backup incremental
echo "== lifeboat backups list"
lifeboat backups list
echo "== lifeboat verify"
lifeboat verify
