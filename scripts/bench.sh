#!/usr/bin/env bash
# bench.sh - throughput and peak RSS of apiroster next to its peers, in one run.
#
# Makes the benchmark capture with ../shared/bench/make-bench-pcap.sh if missing,
# then runs ../shared/bench/peers.sh with apiroster added (AGENT_CMD): the full main
# job, database included (a fresh database per run). Prints one line per tool:
#   tool  wall_s  MB/s  http_tx  cpu_s  maxrss_MB  Gbit/s  kpkt/s
# Usage: scripts/bench.sh [PCAP]    (RUNS=3 TOOLS="suricata-single tshark" ...)
# A benchmark, not a test: it asserts nothing.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${APIROSTER_SHARED:-$SRC/../shared}
PCAP=${1:-/tmp/bench/api-200m.pcap}
if [[ ! -f $PCAP ]]; then
  OUT=$PCAP bash "$SHARED/bench/make-bench-pcap.sh"
fi
cmake -S "$SRC" -B "$SRC/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$SRC/build" -j "$(nproc)" --target apiroster >/dev/null
db=$(mktemp -u /tmp/apiroster-bench.XXXXXX.db)
export AGENT_CMD="rm -f $db*; $SRC/build/apiroster capture --db $db -r {} --json"
export AGENT_TX_CMD="python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[\"exchanges\"])' \"\$dir/stdout\""
export TOOLS=${TOOLS:-"pcap-count httpry suricata-single agent"}
RUNS=${RUNS:-3} bash "$SHARED/bench/peers.sh" "$PCAP"
rm -f "$db"*
