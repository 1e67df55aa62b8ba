#!/bin/bash
# Runs a root-tier test inside private network, mount and PID namespaces, so that no bug can
# reach the machine's real interfaces or mounts: the test sees its own empty network namespace,
# a private tmpfs on /run (so netlab's state, /run/netlab, is the test's own), and a shell as
# PID 1 that reaps orphaned node inits.
# Without root the test is skipped loudly (exit 77, which ctest reports as skipped).
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIPPED: $* needs root (real namespaces and netlink); run the tests as root" >&2
  exit 77
fi
exec unshare --net --mount --pid --fork --mount-proc --propagation private -- bash -c '
  ip link set lo up
  mount -t tmpfs -o mode=0755 test-run /run
  "$@"
  status=$?
  exit $status' isolated "$@"
