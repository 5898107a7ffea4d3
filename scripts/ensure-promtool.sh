#!/usr/bin/env bash
# Makes `promtool` available for the tests (checks of /metrics and of deploy/prometheus/alerts.yaml). It comes with
# Debian's `prometheus` package; installed without recommends. Quick and silent when promtool is already there.
# The package's server is never started: this checks, and stops it if the package's maintainer script did.
set -euo pipefail

command -v promtool >/dev/null 2>&1 && exit 0

fail() {
  echo "ensure-promtool: $1" >&2
  echo "hint: install promtool yourself (Debian/Ubuntu: apt-get install --no-install-recommends prometheus; or the" >&2
  echo "      prometheus release tarball from https://prometheus.io/download/) and put it on PATH" >&2
  exit 1
}

command -v apt-get >/dev/null 2>&1 || fail "promtool is not on PATH and apt-get is not available"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || fail "promtool is not on PATH and installing it needs root"
  sudo=(sudo -n)
fi

running_before=$(pgrep -x prometheus >/dev/null 2>&1 && echo yes || echo no)
echo "ensure-promtool: installing Debian's prometheus package for promtool" >&2
export DEBIAN_FRONTEND=noninteractive
install() { "${sudo[@]}" apt-get install -y --no-install-recommends prometheus >/dev/null; }
if ! install; then
  "${sudo[@]}" apt-get update >/dev/null || fail "apt-get update failed"
  install || fail "apt-get install prometheus failed"
fi
# Where services may start at install time (no policy-rc.d), the package starts a server: the tests need none, so
# one that was not running before is stopped and disabled again.
if [ "$running_before" = no ] && pgrep -x prometheus >/dev/null 2>&1; then
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
    "${sudo[@]}" systemctl disable --now prometheus >/dev/null 2>&1 || true
  else
    "${sudo[@]}" service prometheus stop >/dev/null 2>&1 || true
  fi
fi
command -v promtool >/dev/null 2>&1 || fail "the prometheus package is installed but promtool is not on PATH"
