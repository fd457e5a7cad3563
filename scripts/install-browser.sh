#!/usr/bin/env bash
# Installs Debian's Chromium (/usr/bin/chromium) for the Web UI test, which drives it with
# playwright-core (a test tool's own browser download does not work here).
set -euo pipefail
exec "$(dirname "$0")/apt-install.sh" /usr/bin/chromium chromium
