#!/bin/bash
# Installs what is missing, builds netlab, and runs every test: unit, netns and e2e tiers
# (the root tiers inside private namespaces, tests/run_isolated.sh), then all of them again
# under the sanitizers (build-asan), then the topology fuzzer for a bounded time
# (NETLAB_FUZZ_SECONDS, default 60; 0 skips it), then the vm tier on Debian's stock kernel.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)"
# Every tier but vm, which boots virtual machines and runs last. Tests run side by side, one per
# core, but for those that measure time or a share of the CPU (RUN_SERIAL in their CMakeLists).
jobs=-j"$(nproc)"
ctest --test-dir build --output-on-failure -LE vm "$jobs"
# Every tier again (but the e2e crash loops and the package) under AddressSanitizer and
# UndefinedBehaviorSanitizer, in a tree of its own
# (NETLAB_SANITIZE; netlab-init stays unsanitized: it is static, and ASan's runtime cannot be).
# Any finding fails its test. LeakSanitizer checks the unit and netns tiers only: at exit it
# ptraces the process from a helper it clones, and `netlab exec` exits from inside a node,
# where that helper is born in the node's PID namespace (and, for an isolated node, as
# another user) and cannot reach it; LeakSanitizer then waits forever.
# At -O1 with line tables only (-g1), as the sanitizers' own documentation suggests: the reports
# keep their file and line, and the tree builds in about two thirds of the time -O2 -g takes.
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNETLAB_SANITIZE=ON \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG"
cmake --build build-asan -j"$(nproc)"
sanitizers="strict_string_checks=1:check_initialization_order=1"
export UBSAN_OPTIONS=print_stacktrace=1
ASAN_OPTIONS="detect_leaks=1:$sanitizers" ctest --test-dir build-asan -L 'unit|netns' \
  --output-on-failure "$jobs"
# The crash loops (label crash: SIGKILL at every step, checked with `down`) and the Debian package
# test the lab's state and the package, not netlab's memory: they ran in the tree above.
ASAN_OPTIONS="detect_leaks=0:$sanitizers" ctest --test-dir build-asan -L e2e -LE 'crash|package' \
  --output-on-failure "$jobs"
seconds=${NETLAB_FUZZ_SECONDS:-60}
if [ "$seconds" -gt 0 ]; then
  CXX=clang++ cmake -S . -B build-fuzz -DNETLAB_FUZZ=ON -DBUILD_TESTING=OFF > /dev/null
  cmake --build build-fuzz -j"$(nproc)" --target topology_fuzz
  tests/fuzz/run.sh build-fuzz "$seconds"
fi
# The vm tier: netem and the e2e core on Debian's stock kernel, in QEMU (tests/vm/run), one
# machine at a time: each has two virtual CPUs, and its tests measure rates and delays.
ctest --test-dir build -L vm --output-on-failure
