#!/usr/bin/env bash
# Usage: scripts/build-image.sh NAME
# Builds the local image images/NAME (its build.sh fills a root file system) without any registry:
# `podman import` of that root file system. The tag is a digest of the recipe folder, so an image
# already in podman's store (which outlives checkouts) is not built again; prints its reference,
# localhost/analysis-NAME:DIGEST, on stdout. Uses the project's containers.conf.
set -euo pipefail
cd "$(dirname "$0")/.."

if (($# != 1)) || [[ ! -f images/$1/build.sh ]]; then
  names=(images/*/build.sh)
  names=("${names[@]#images/}")
  echo "usage: $0 NAME (one of: ${names[*]%/build.sh})" >&2
  exit 2
fi
name=$1
CONTAINERS_CONF=$(scripts/install-containers.sh)
export CONTAINERS_CONF
digest=$(cd "images/$name" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
ref=localhost/analysis-$name:$digest
if podman image exists "$ref"; then
  echo "$ref"
  exit 0
fi

started=$SECONDS
work=.dev/images/$name-$digest
rm -rf "$work"
mkdir -p "$work/rootfs"
trap 'rm -rf "$work"' EXIT
bash "images/$name/build.sh" "$PWD/$work/rootfs" >"$work/build.log" 2>&1 || {
  echo "build-image: images/$name/build.sh failed:" >&2
  tail -n 20 "$work/build.log" >&2
  exit 1
}
tar -C "$work/rootfs" -c . | podman import --quiet - "$ref" >/dev/null
echo "build-image: built $ref in $((SECONDS - started))s" >&2
echo "$ref"
