#!/bin/bash
# Installs what is missing, builds netlab, and runs every test: unit, netns and e2e tiers.
# The root tiers run inside private namespaces (tests/run_isolated.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure
