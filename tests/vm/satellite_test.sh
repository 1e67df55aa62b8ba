#!/bin/bash
# The satellite experiment (examples/satellite) on a kernel with netem: its figures are printed
# for examples/satellite/README.md, and their shape is checked: near the link's rate on a short
# round trip, lower on 600 ms, far lower again with loss.
set -euo pipefail
results=$(mktemp)
trap 'rm -f "$results"' EXIT
RESULTS=$results "$(dirname "$0")/../../examples/satellite/run.sh"
python3 - "$results" << 'PYTHON'
import csv, sys
rows = {(row["one_way_delay_ms"], row["loss_percent"]): float(row["throughput_mbit"])
        for row in csv.DictReader(open(sys.argv[1]))}
near, far = rows[("0", "0")], rows[("300", "0")]
lossy, lossier = rows[("300", "0.1")], rows[("300", "1")]
assert near > 17, f"{near} mbit/s on a short round trip, expected near 20 mbit/s"
assert lossy < far and lossier < lossy / 1.5, f"loss: {far} -> {lossy} -> {lossier} mbit/s"
print("satellite: the expected shape")
PYTHON
