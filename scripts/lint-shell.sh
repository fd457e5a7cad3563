#!/usr/bin/env bash
# ShellCheck over every shell script of the repository (installed from Debian's packages when
# missing). Part of `npm run lint`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/apt-install.sh shellcheck shellcheck
mapfile -t files < <(
  find . \( -path ./node_modules -o -path ./.dev -o -path ./.git -o -path ./test-output \) -prune -o \
    -type f \( -name '*.sh' -o -path ./.ci/run \) -print | sort
)
shellcheck --external-sources "${files[@]}"
