#!/usr/bin/env bash
# Installs what container analyses need on this machine, from Debian's packages: podman with the
# runc runtime (Debian's default crun fails where cgroups run in hybrid mode), and the tools the
# test images are built with (busybox-static, debootstrap). Writes the project's own
# containers.conf, which only the project's podman invocations read (through CONTAINERS_CONF):
# runc with the cgroupfs manager, and no default ulimits (raising them needs CAP_SYS_RESOURCE,
# which sandboxes and unprivileged workers lack). System files are left as they are.
# Prints the containers.conf path on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/apt-install.sh podman podman
scripts/apt-install.sh runc runc
scripts/apt-install.sh /bin/busybox busybox-static
scripts/apt-install.sh debootstrap debootstrap

conf=.dev/containers/containers.conf
mkdir -p "$(dirname "$conf")"
wanted=$(
  cat <<'CONF'
[containers]
default_ulimits = []

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
CONF
)
if [[ ! -f $conf || $(cat "$conf") != "$wanted" ]]; then printf '%s\n' "$wanted" >"$conf"; fi
echo "$PWD/$conf"
