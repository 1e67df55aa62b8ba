#!/bin/bash
# Installs what is missing, builds netlab, and runs every test: unit, netns and e2e tiers
# (the root tiers inside private namespaces, tests/run_isolated.sh), then the topology fuzzer
# for a bounded time (NETLAB_FUZZ_SECONDS, default 60; 0 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure
seconds=${NETLAB_FUZZ_SECONDS:-60}
if [ "$seconds" -gt 0 ]; then
  CXX=clang++ cmake -S . -B build-fuzz -DNETLAB_FUZZ=ON -DBUILD_TESTING=OFF > /dev/null
  cmake --build build-fuzz -j"$(nproc)" --target topology_fuzz
  tests/fuzz/run.sh build-fuzz "$seconds"
fi
