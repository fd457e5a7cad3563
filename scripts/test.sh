#!/usr/bin/env bash
# The whole test suite, from a fresh clone. The fast part (type check, lint, unit and workflow
# tests) runs first, so that a mistake there is reported before the Go servers are built and the
# stack is started; then the integration tests run against the local stack (scripts/with-stack.sh).
# TEST_ONLY="FILE..." type-checks and runs only those test files, with the stack up.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -n ${TEST_ONLY:-} ]]; then
  scripts/install-node-modules.sh
  # The CLI and the worker run the compiled code: rebuilt here, so no test runs a stale build.
  scripts/build.sh
  npx tsc --noEmit
  # shellcheck disable=SC2206 # TEST_ONLY is a space-separated list of files or globs
  files=($TEST_ONLY)
else
  scripts/test-fast.sh
  files=(test/integration/*.test.ts)
fi

# The Web UI check drives Debian's Chromium.
scripts/install-browser.sh
# Container analyses run with podman and runc; their test images are built by the tests themselves
# (scripts/build-image.sh), once per recipe, kept in podman's own store.
scripts/install-containers.sh >/dev/null
mkdir -p test-output
scripts/with-stack.sh node --require tsx/cjs --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
