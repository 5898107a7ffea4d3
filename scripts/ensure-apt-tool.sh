#!/usr/bin/env bash
# Makes a command from a Debian package available: `ensure-apt-tool.sh COMMAND PACKAGE WHAT-FOR HINT`. Quick and
# silent when COMMAND is already on PATH; otherwise installs PACKAGE without recommends (as root, or through
# `sudo -n`), running `apt-get update` only when the first install fails. Packages that ship a server (prometheus)
# may start it at install time where no policy-rc.d forbids it: a server of that name that was not running before
# is stopped and disabled again, since the tools only need the command.
set -euo pipefail

[ $# -eq 4 ] || { echo "usage: ensure-apt-tool.sh COMMAND PACKAGE WHAT-FOR HINT" >&2; exit 2; }
command=$1 package=$2 purpose=$3 hint=$4

command -v "$command" >/dev/null 2>&1 && exit 0

fail() {
  echo "ensure-$command: $1" >&2
  echo "hint: $hint" >&2
  exit 1
}

command -v apt-get >/dev/null 2>&1 || fail "$command is not on PATH and apt-get is not available"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || fail "$command is not on PATH and installing it needs root"
  sudo=(sudo -n)
fi

running_before=$(pgrep -x "$package" >/dev/null 2>&1 && echo yes || echo no)
echo "ensure-$command: installing Debian's $package package ($purpose)" >&2
export DEBIAN_FRONTEND=noninteractive
install() { "${sudo[@]}" apt-get install -y --no-install-recommends "$package" >/dev/null; }
if ! install; then
  "${sudo[@]}" apt-get update >/dev/null || fail "apt-get update failed"
  install || fail "apt-get install $package failed"
fi
if [ "$running_before" = no ] && pgrep -x "$package" >/dev/null 2>&1; then
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$package" 2>/dev/null; then
    "${sudo[@]}" systemctl disable --now "$package" >/dev/null 2>&1 || true
  else
    "${sudo[@]}" service "$package" stop >/dev/null 2>&1 || true
  fi
fi
command -v "$command" >/dev/null 2>&1 || fail "the $package package is installed but $command is not on PATH"
