#!/usr/bin/env bash
# Usage: scripts/with-stack.sh COMMAND [ARG...]
# Runs COMMAND against this checkout's local stack (Temporal, FerretDB, versitygw): installs what
# is missing, brings the stack up through ./temporal-dev.sh, loads its environment, registers the
# project's namespace and search attributes (`analysis setup`, a no-op when done), runs COMMAND,
# and stops the stack afterwards only if this script started it (and KEEP_STACK is not set).
# DEV_TEMPORAL=server runs it all on a Temporal server on PostgreSQL instead of the dev server.
# Exits with COMMAND's status.
set -euo pipefail
cd "$(dirname "$0")/.."

if (($# == 0)); then
  echo "usage: $0 COMMAND [ARG...]" >&2
  exit 2
fi
scripts/install-node-modules.sh

started_stack=0
if ! ./temporal-dev.sh status >/dev/null 2>&1; then started_stack=1; fi
# shellcheck disable=SC2317 # called by the EXIT trap
stop_stack() { if ((started_stack)) && [[ -z ${KEEP_STACK:-} ]]; then ./temporal-dev.sh down || true; fi; }
trap stop_stack EXIT
./temporal-dev.sh up >/dev/null
eval "$(./temporal-dev.sh env)"
# What an operator does once per namespace; on a fresh Temporal server it is the only way in.
node bin/analysis.js setup >&2
# Tells the test helpers the stack is up and its environment loaded (test/helpers/stack.ts).
export ANALYSIS_TEST_STACK_UP=1

"$@"
