#!/usr/bin/env bash
# Makes `pgbackrest` available for the vs-pgbackrest benchmark case (bench/cases/vs-pgbackrest-case.ts), from
# Debian's package. It starts no service; the benchmark writes its own config file in a temp dir for every run.
exec bash "$(dirname "$0")/ensure-apt-tool.sh" pgbackrest pgbackrest "the vs-pgbackrest benchmark" \
  "install pgBackRest yourself (Debian/Ubuntu: apt-get install --no-install-recommends pgbackrest; or see https://pgbackrest.org/user-guide.html#installation) and put it on PATH, or leave out the vs-pgbackrest case"
