#!/bin/bash
# TCP over a satellite link: throughput against the round-trip time, and against loss.
#
# A 20 mbit/s link whose one-way delay and loss `netlab link set` changes live, step by step
# (both directions); at each step iperf3 measures TCP from ground to remote and ping the round
# trip. Results go to results.csv. Needs a kernel with netem (tests/vm/run gives one) and iperf3.
#
# Usage (as root): examples/satellite/run.sh [DELAY:LOSS...]
#   default: 0ms:0% 25ms:0% 100ms:0% 300ms:0% 300ms:0.1% 300ms:1%
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
netlab=${NETLAB:-netlab}
results=${RESULTS:-$here/results.csv}
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(0ms:0% 25ms:0% 100ms:0% 300ms:0% 300ms:0.1% 300ms:1%)
seconds=14  # of TCP per step; the first 4 (slow start over a long round trip) are left out

lab=satellite-$$
"$netlab" up -q "$here/topo.json" --lab "$lab"
trap '"$netlab" down "$lab" > /dev/null' EXIT
"$netlab" exec --lab "$lab" remote -- iperf3 -s -D
sleep 0.5

echo "one_way_delay_ms,loss_percent,rtt_ms,throughput_mbit" > "$results"
for step in "${steps[@]}"; do
  delay=${step%%:*}
  loss=${step#*:}
  "$netlab" link set --lab "$lab" ground:eth0 --delay "$delay" --loss "$loss" > /dev/null
  # The first ping also waits for ARP across the delay; the median of the others is the RTT.
  rtt=$("$netlab" exec --lab "$lab" ground -- ping -c 5 -i 0.2 -W 3 10.30.0.2 |
    sed -n 's/.*time=\([0-9.]*\) ms/\1/p' | tail -n +2 | sort -n |
    awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')
  throughput=$("$netlab" exec --lab "$lab" ground -- iperf3 -c 10.30.0.2 -t "$seconds" -O 4 -J |
    python3 -c 'import json,sys; print(round(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e6, 2))')
  echo "${delay%ms},${loss%\%},$rtt,$throughput" | tee -a "$results"
done
echo "results: $results"
