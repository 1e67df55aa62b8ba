#!/bin/sh
# Runs the topology fuzzer for a bounded time, seeded with tests/fuzz/corpus and examples/.
# Usage: tests/fuzz/run.sh BUILD_DIR SECONDS
# Exits non-zero when the fuzzer finds a crash, a leak, a timeout or a sanitizer report; the
# input that triggered it is left in BUILD_DIR/fuzz-artifacts/.
set -eu

if [ $# -ne 2 ]; then
  echo "usage: $0 BUILD_DIR SECONDS" >&2
  exit 2
fi
build=$1
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
fuzzer="$build/tests/fuzz/topology_fuzz"
if [ ! -x "$fuzzer" ]; then
  echo "$fuzzer not found: build the topology_fuzz target first" >&2
  exit 2
fi

artifacts="$build/fuzz-artifacts"
mkdir -p "$artifacts"
# New inputs go to a scratch directory, so the checked-in corpus stays as reviewed.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
  -dict="$here/topology.dict" -artifact_prefix="$artifacts/" -print_final_stats=1 \
  "$scratch" "$here/corpus" "$here/../../examples"
