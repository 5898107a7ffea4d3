#!/bin/sh
# First start of the compose PostgreSQL (docker-entrypoint-initdb.d): the least-privilege lifeboat role of README
# "PostgreSQL role", and a pg_hba line letting it stream over the replication protocol from the compose network.
# The password comes from the environment (deploy/.env) through psql's \getenv (PostgreSQL 15+): never on a
# command line.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<'SQL'
\getenv pw LIFEBOAT_PGPASSWORD
CREATE ROLE lifeboat WITH LOGIN REPLICATION PASSWORD :'pw';
GRANT EXECUTE ON FUNCTION pg_catalog.pg_ls_waldir() TO lifeboat;
GRANT EXECUTE ON FUNCTION pg_catalog.pg_create_restore_point(text) TO lifeboat;
GRANT EXECUTE ON FUNCTION pg_catalog.pg_switch_wal() TO lifeboat;
CREATE SCHEMA IF NOT EXISTS lifeboat AUTHORIZATION lifeboat;
SQL
echo "host replication lifeboat all scram-sha-256" >> "$PGDATA/pg_hba.conf"
