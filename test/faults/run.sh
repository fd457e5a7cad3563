#!/usr/bin/env bash
# The fault suite: kills workers, stops and restarts the servers of THIS checkout's local stack
# (Temporal, FerretDB, versitygw, through ./temporal-dev.sh and its pid files in .dev/run/), and
# checks that dispatches still end with exactly one record and one set of objects per task.
# Like `npm test` it runs through scripts/with-stack.sh: installs what is missing, brings the stack
# up, and stops it again only if it started it. Never run it against a stack others are using: point
# it at other ports instead, e.g.
# DEV_TEMPORAL_PORT=17233 DEV_TEMPORAL_UI_PORT=18233 DEV_MONGO_PORT=27018 DEV_S3_PORT=17070.
set -euo pipefail
cd "$(dirname "$0")/../.."

mkdir -p test-output/faults
rm -f test-output/faults/figures.jsonl
files=(test/faults/*.test.ts)
# shellcheck disable=SC2206 # TEST_ONLY is a space-separated list of files or globs
if [[ -n ${TEST_ONLY:-} ]]; then files=($TEST_ONLY); fi
started=$SECONDS
status=0
scripts/with-stack.sh node --require tsx/cjs --test --test-concurrency=1 --test-reporter=spec "${files[@]}" ||
  status=$?
echo "fault suite: $((SECONDS - started)) s with the stack's start; measured figures in test-output/faults/figures.jsonl"
exit "$status"
