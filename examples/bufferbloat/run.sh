#!/bin/bash
# Bufferbloat: how much delay a full bottleneck queue adds, at several link rates.
#
# For each rate, `netlab link set` reshapes the running lab's link, then the client measures
# the round-trip time to the server idle, and again while iperf3 fills the link with TCP.
# The difference is the time packets wait in the bottleneck's queue. Results go to
# results.csv, and to results.png when gnuplot is installed.
#
# Usage (as root): examples/bufferbloat/run.sh [RATE...]   (default: 2mbit 5mbit 10mbit 20mbit 50mbit)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
netlab=${NETLAB:-netlab}
rates=("$@")
[ ${#rates[@]} -gt 0 ] || rates=(2mbit 5mbit 10mbit 20mbit 50mbit)
seconds=8  # of TCP load; the loaded RTT is measured from its 2nd to its 5th second

"$netlab" up -q "$here/topo.json"
trap '"$netlab" down bufferbloat > /dev/null' EXIT
"$netlab" exec server -- iperf3 -s -D
sleep 0.5

# The median of ping's round-trip times, in ms.
median_rtt() {
  "$netlab" exec client -- ping -c "$1" -i 0.2 10.9.0.2 |
    sed -n 's/.*time=\([0-9.]*\) ms/\1/p' | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'
}

echo "rate_mbit,throughput_mbit,idle_rtt_ms,loaded_rtt_ms,queueing_delay_ms" > "$here/results.csv"
for rate in "${rates[@]}"; do
  "$netlab" link set client:eth0 --rate "$rate" > /dev/null
  "$netlab" exec client -- ping -q -c 2 -i 0.2 10.9.0.2 > /dev/null  # ARP resolved first
  idle=$(median_rtt 10)
  "$netlab" exec client -- iperf3 -c 10.9.0.2 -t "$seconds" -J > /tmp/bufferbloat-iperf.json &
  sleep 2  # TCP fills the queue
  loaded=$(median_rtt 15)
  wait
  throughput=$(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e6, 2))' /tmp/bufferbloat-iperf.json)
  mbit=$(python3 -c "import sys; r=sys.argv[1].lower(); print(float(r[:-4]) * {'k':1e-3,'m':1,'g':1e3}[r[-4]])" "$rate")
  delay=$(python3 -c "print(round($loaded - $idle, 2))")
  echo "$mbit,$throughput,$idle,$loaded,$delay" | tee -a "$here/results.csv"
done
rm -f /tmp/bufferbloat-iperf.json

if command -v gnuplot > /dev/null; then
  gnuplot <<GNUPLOT
set terminal pngcairo size 800,500
set output "$here/results.png"
set datafile separator ","
set key top right
set logscale x
set xlabel "bottleneck rate (mbit/s)"
set ylabel "round-trip time (ms)"
set title "Bufferbloat: RTT idle and under a TCP load"
plot "$here/results.csv" using 1:3 skip 1 with linespoints title "idle", \
     "$here/results.csv" using 1:4 skip 1 with linespoints title "loaded (iperf3)"
GNUPLOT
  echo "plot: $here/results.png"
fi
echo "results: $here/results.csv"
