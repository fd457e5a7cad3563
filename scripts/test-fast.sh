#!/usr/bin/env bash
# `npm run test:fast`: type check, lint, unit tests and workflow tests. Needs no server but the
# Temporal test server the workflow tests start themselves from the Temporal CLI, which this
# installs into .dev/venv when missing (nothing is built, nothing is left running).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-node-modules.sh
# The CLI and the worker run the compiled code: rebuilt here, so no test runs a stale build.
scripts/build.sh
./temporal-dev.sh install temporal
# The institute's own models, which the tests check records and task files with.
scripts/install-python-formats.sh >/dev/null

npx tsc --noEmit
npm run --silent lint
shopt -s nullglob
files=(test/unit/*.test.ts test/workflows/*.test.ts)
node --require tsx/cjs --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
