#!/usr/bin/env bash
# Usage: build.sh ROOTFS
# A minimal Debian bookworm with python3 and Debian's own pydantic (1.10, unlike the workers' 2.x:
# the records of an analysis run in it name the image's versions, not the worker's), from the
# Debian mirror this machine's apt uses.
set -euo pipefail
rootfs=$1
mirror=$(grep -h -m1 -oE '^URIs: *[^ ]+' /etc/apt/sources.list.d/debian.sources 2>/dev/null | awk '{print $2}' || true)
if [[ -z $mirror ]]; then
  mirror=$(grep -h -m1 -oE '^deb +[^ ]+' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' || true)
fi
debootstrap --variant=minbase --include=python3,python3-pydantic bookworm "$rootfs" "${mirror:-http://deb.debian.org/debian}"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
