#!/usr/bin/env bash
# Runs `npm install` when node_modules is missing or older than package-lock.json, so that every
# entry point works from a fresh clone and after a pull that changed the lockfile.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm install --no-audit --no-fund
fi
