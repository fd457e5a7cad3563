#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs dependencies, brings up the local stack
# (Temporal, FerretDB, versitygw) through ./temporal-dev.sh, runs every test, and stops the
# stack again only if this script started it.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm install --no-audit --no-fund
fi

# The Web UI check drives Debian's Chromium.
scripts/install-browser.sh

started_stack=0
if ! ./temporal-dev.sh status >/dev/null 2>&1; then
  started_stack=1
fi
stop_stack() { if [ "$started_stack" = 1 ] && [ -z "${KEEP_STACK:-}" ]; then ./temporal-dev.sh down || true; fi; }
trap stop_stack EXIT
./temporal-dev.sh up >/dev/null
eval "$(./temporal-dev.sh env)"
export ANALYSIS_TEST_STACK_UP=1

npx tsc --noEmit
mkdir -p test-output
files=(test/unit/*.test.ts test/integration/*.test.ts)
if [ -n "${TEST_ONLY:-}" ]; then files=($TEST_ONLY); fi
node --require tsx/cjs --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
