#!/usr/bin/env bash
# Makes `pgbackrest` available for the vs-pgbackrest benchmark case (bench/cases/vs-pgbackrest-case.ts). It comes
# from Debian's `pgbackrest` package, installed without recommends. Quick and silent when it is already there.
# The package starts no service; the benchmark writes its own config file in a temp dir for every run.
set -euo pipefail

command -v pgbackrest >/dev/null 2>&1 && exit 0

fail() {
  echo "ensure-pgbackrest: $1" >&2
  echo "hint: install pgBackRest yourself (Debian/Ubuntu: apt-get install --no-install-recommends pgbackrest; or see" >&2
  echo "      https://pgbackrest.org/user-guide.html#installation) and put it on PATH, or leave out the vs-pgbackrest case" >&2
  exit 1
}

command -v apt-get >/dev/null 2>&1 || fail "pgbackrest is not on PATH and apt-get is not available"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || fail "pgbackrest is not on PATH and installing it needs root"
  sudo=(sudo -n)
fi

echo "ensure-pgbackrest: installing Debian's pgbackrest package" >&2
export DEBIAN_FRONTEND=noninteractive
install() { "${sudo[@]}" apt-get install -y --no-install-recommends pgbackrest >/dev/null; }
if ! install; then
  "${sudo[@]}" apt-get update >/dev/null || fail "apt-get update failed"
  install || fail "apt-get install pgbackrest failed"
fi
command -v pgbackrest >/dev/null 2>&1 || fail "the pgbackrest package is installed but pgbackrest is not on PATH"
