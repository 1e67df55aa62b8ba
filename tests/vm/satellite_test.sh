#!/bin/bash
# The satellite experiment (examples/satellite) on a kernel with netem: its figures are printed
# for examples/satellite/README.md, and their shape is checked: near the link's rate on a short
# round trip, and far lower on 600 ms with loss. Ten seconds over 600 ms are some 17 round trips,
# so the lossy steps vary from run to run: 0.1 % gave 6.76, 3.10 and 11.1 mbit/s in three runs
# (the last 0.65 of its lossless step's 17.08), 1 % gave 2.66, 2.25 and 0.67. The bounds are
# cuts against the lossless step, not a ratio of one noisy figure to another, with room beyond
# what was seen.
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
assert lossy < 0.8 * far and lossier < 0.3 * far, f"loss: {far} -> {lossy} -> {lossier} mbit/s"
print("satellite: the expected shape")
PYTHON
