#!/usr/bin/env bash
# Installs Debian's Chromium (/usr/bin/chromium) for the Web UI test, which drives it with
# playwright-core (a test tool's own browser download does not work here). Idempotent: does
# nothing when /usr/bin/chromium is already there. Quiet unless something fails.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then exit 0; fi

started=$SECONDS
if [ "$(id -u)" = 0 ]; then sudo=(); else sudo=(sudo -n); fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT

if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >"$log" 2>&1; then
  echo "install-browser: apt-get update failed:" >&2
  tail -n 20 "$log" >&2
  exit 1
fi
if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >"$log" 2>&1; then
  echo "install-browser: apt-get install chromium failed:" >&2
  tail -n 20 "$log" >&2
  exit 1
fi
if [ ! -x "$CHROMIUM" ]; then
  echo "install-browser: chromium installed but $CHROMIUM is missing" >&2
  exit 1
fi
echo "install-browser: installed $("$CHROMIUM" --version 2>/dev/null || echo chromium) in $((SECONDS - started))s"
