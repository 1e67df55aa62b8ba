#!/bin/bash
# Installs what netlab needs to build and test, from Debian's packages (as root).
# --bench: also what the benchmark compares netlab with and profiles it by (bench/README.md).
set -euo pipefail
packages=(
  build-essential cmake pkg-config clang
  libmnl-dev libpcap-dev nlohmann-json3-dev libcli11-dev libfmt-dev libgtest-dev
  iproute2 iputils-ping procps util-linux python3 python3-jsonschema graphviz iperf3
  frr bird2 traceroute strace tshark
  libcpp-httplib-dev chromium
  # Issue 20: the image store reads OCI and Docker image archives with libarchive, and checks
  # their blobs' sha256 digests with OpenSSL's libcrypto.
  libarchive-dev libssl-dev
  # Issue 22: the Debian package (cpack -G DEB finds its dependencies with dpkg-shlibdeps) and
  # its manual pages, read back by the package tests; zsh, whose completion is tested too.
  dpkg-dev man-db zsh
  # Issue 19: subordinate id ranges for rootless labs (newuidmap, newgidmap).
  uidmap
  # The vm test tier (tests/vm/run): Debian's stock kernel, which has netem, booted in QEMU.
  qemu-system-x86 linux-image-amd64 busybox-static
)
if [ "${1:-}" = --bench ]; then
  # Mininet for Debian's /usr/bin/python3, with the brctl its Linux bridges call; perf.
  packages+=(mininet bridge-utils linux-perf)
fi
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  # frr, bird2 and iperf3 come with services that would start routing daemons in the host's own
  # network namespace; netlab runs them inside nodes only. policy-rc.d keeps them stopped.
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
