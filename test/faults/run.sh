#!/usr/bin/env bash
# The fault suite (issue 7): kills workers, stops and restarts the servers of THIS checkout's local
# stack (Temporal, FerretDB, versitygw, through ./temporal-dev.sh and its pid files in .dev/run/),
# and checks that dispatches still end with exactly one record and one set of objects per task.
# Like scripts/test.sh it installs what is missing, brings the stack up, and stops it again only if
# it started it. Never run it against a stack others are using: point it at other ports instead,
# e.g. DEV_TEMPORAL_PORT=17233 DEV_TEMPORAL_UI_PORT=18233 DEV_MONGO_PORT=27018 DEV_S3_PORT=17070.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm install --no-audit --no-fund
fi

started_stack=0
if ! ./temporal-dev.sh status >/dev/null 2>&1; then
  started_stack=1
fi
stop_stack() { if [ "$started_stack" = 1 ] && [ -z "${KEEP_STACK:-}" ]; then ./temporal-dev.sh down || true; fi; }
trap stop_stack EXIT
./temporal-dev.sh up >/dev/null
eval "$(./temporal-dev.sh env)"
export ANALYSIS_TEST_STACK_UP=1

mkdir -p test-output/faults
rm -f test-output/faults/figures.jsonl
files=(test/faults/*.test.ts)
if [ -n "${TEST_ONLY:-}" ]; then files=($TEST_ONLY); fi
started=$SECONDS
status=0
node --require tsx/cjs --test --test-concurrency=1 --test-reporter=spec "${files[@]}" || status=$?
echo "fault suite: $((SECONDS - started)) s; measured figures in test-output/faults/figures.jsonl"
exit "$status"
