#!/bin/bash
# Installs what is missing, builds netlab, installs it (cmake --install: /usr/local, so `netlab`
# is on the PATH, with its manual pages and completion), checks the machine (netlab doctor) and
# runs the default example lab: validate it, bring it up, look inside a node, ping across the
# lab, and take it down.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)" --target netlab manuals
cmake --install build
echo "netlab is installed in /usr/local (to remove it: xargs rm -f < build/install_manifest.txt)"
netlab=netlab
topology=examples/lan.json
set -x
"$netlab" doctor
"$netlab" validate "$topology"
"$netlab" up "$topology"
"$netlab" exec h1 -- hostname
"$netlab" exec h1 -- ip -br address
"$netlab" exec h1 -- ps -e
"$netlab" exec h1 -- ping -c 2 h4
"$netlab" test lan
"$netlab" link show
"$netlab" status
"$netlab" down lan
