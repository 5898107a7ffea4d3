#!/usr/bin/env bash
# Makes `promtool` available for the tests (checks of /metrics and of deploy/prometheus/alerts.yaml). It comes with
# Debian's `prometheus` package, whose server is never needed (ensure-apt-tool.sh stops it if the install started it).
exec bash "$(dirname "$0")/ensure-apt-tool.sh" promtool prometheus "promtool, for the metrics and alert-rule tests" \
  "install promtool yourself (Debian/Ubuntu: apt-get install --no-install-recommends prometheus; or the prometheus release tarball from https://prometheus.io/download/) and put it on PATH"
