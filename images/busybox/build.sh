#!/usr/bin/env bash
# Usage: build.sh ROOTFS
# A 2 MB image holding Debian's static busybox and a link for each of its applets: enough for the
# tests' shell commands (sleep, cat, dd, ls).
set -euo pipefail
rootfs=$1
mkdir -p "$rootfs/bin" "$rootfs/tmp"
cp /bin/busybox "$rootfs/bin/busybox"
for applet in $("$rootfs/bin/busybox" --list); do
  [[ -e $rootfs/bin/$applet ]] || ln -s busybox "$rootfs/bin/$applet"
done
