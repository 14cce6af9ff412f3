#!/usr/bin/env bash
# make-sample-pcap.sh - record samples/sample.pcap from real traffic.
#
# A real server (scripts/sample/api_server.py, Python's http.server) and real
# clients (curl, scripts/sample/clients.sh) talk over the loopback of a private
# network namespace (nothing leaves the machine), and tcpdump records it.
# Needs root (network namespace, tcpdump). Usage: sudo scripts/make-sample-pcap.sh [OUT]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-$HERE/../samples/sample.pcap}

if [[ ${1:-} == --inner ]]; then
  out=$2
  ip link set lo up
  python3 "$HERE/sample/api_server.py" 8080 & srv=$!
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null && break; sleep 0.1; done
  tcpdump -i lo -n -s 0 -U -Z root -w "$out" 'tcp port 8080' 2>"$out.log" & tcpd=$!
  sleep 1
  bash "$HERE/sample/clients.sh" >/dev/null
  sleep 1
  kill -INT $tcpd; wait $tcpd || true
  kill $srv; wait $srv 2>/dev/null || true
  rm -f "$out.log"
  exit 0
fi

[[ $(id -u) == 0 ]] || { echo "make-sample-pcap: run as root (network namespace, tcpdump)" >&2; exit 2; }
for t in tcpdump curl python3 unshare ip; do
  command -v $t >/dev/null || { echo "make-sample-pcap: $t is missing (apt-get install tcpdump curl python3 iproute2)" >&2; exit 2; }
done
mkdir -p "$(dirname "$OUT")"
tmp=$(mktemp -d)
chmod 755 "$tmp"
unshare --net -- "$0" --inner "$tmp/sample.pcap"
mv "$tmp/sample.pcap" "$OUT"
rm -rf "$tmp"
echo "make-sample-pcap: wrote $OUT ($(stat -c %s "$OUT") bytes)" >&2
