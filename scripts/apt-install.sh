#!/usr/bin/env bash
# Usage: scripts/apt-install.sh TOOL PACKAGE
# Installs Debian's PACKAGE when TOOL (a command name on PATH, or a path) is missing: tools the tests
# and the linter need that npm does not provide. Idempotent, and quiet unless something fails.
set -euo pipefail

if (($# != 2)); then
  echo "usage: $0 TOOL PACKAGE" >&2
  exit 2
fi
tool=$1 package=$2
present() { if [[ $tool == */* ]]; then [[ -x $tool ]]; else command -v "$tool" >/dev/null 2>&1; fi; }
if present; then exit 0; fi

started=$SECONDS
if [[ $(id -u) == 0 ]]; then sudo=(); else sudo=(sudo -n); fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT

apt_get() {
  if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "$@" >"$log" 2>&1; then
    echo "apt-install: apt-get $* failed:" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
}
apt_get update -q
apt_get install -y -q --no-install-recommends "$package"
if ! present; then
  echo "apt-install: $package installed but $tool is missing" >&2
  exit 1
fi
echo "apt-install: installed $package in $((SECONDS - started))s" >&2
