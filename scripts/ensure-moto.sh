#!/usr/bin/env bash
# Creates the project-local virtualenv holding the moto server (S3 + KMS test endpoint) if it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-moto
if [ ! -x "$venv/bin/moto_server" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==${MOTO_VERSION:-5.2.5}"
fi
