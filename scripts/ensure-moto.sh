#!/usr/bin/env bash
# Creates the project-local virtualenv the tests use if it is missing or incomplete: the moto server (S3 + KMS test
# endpoint) and junitparser (an independent JUnit XML reader the drill report tests check their XML with).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-moto
if [ ! -x "$venv/bin/moto_server" ] || ! "$venv/bin/python" -c 'import junitparser' >/dev/null 2>&1; then
  [ -x "$venv/bin/pip" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==${MOTO_VERSION:-5.2.5}" "junitparser==${JUNITPARSER_VERSION:-5.0.3}"
fi
