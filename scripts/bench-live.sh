#!/usr/bin/env bash
# Replay a capture with `tcpreplay --topspeed` on the loopback of a private
# network namespace while `apiroster capture -i lo` runs, and print its kernel
# and interface drops, exchanges and endpoints. Root only.
#   [AR_BENCH_FILTER=BPF] scripts/bench-live.sh PCAP [BUFFER] [TRUTH.tsv]
# The addresses are rewritten to 10.99.0.1 (tcprewrite) first: replayed packets
# to 127.0.0.1 would reach the local TCP stack, whose resets would end up in the
# capture; packets to a non-local address on lo are captured, then dropped.
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
BIN=${APIROSTER_BIN:-$SRC/build/apiroster}
PCAP=$1; BUFFER=${2:-64MiB}; TRUTH=${3:-}
[[ $(id -u) == 0 ]] || { echo "bench-live: needs root" >&2; exit 2; }
if [[ -z ${AR_BENCH_NETNS:-} ]]; then AR_BENCH_NETNS=1 exec unshare -n bash "$0" "$@"; fi
ip link set lo up
t=$(mktemp -d); chmod 755 "$t"; mkdir "$t/db"; chown nobody "$t/db"
trap 'rm -rf "$t"' EXIT
tcprewrite --pnat=127.0.0.0/8:10.99.0.0/24 --fixcsum -i "$PCAP" -o "$t/replay.pcap"
{ printf '[inventory]\nflush_interval = 1s\n[capture]\nuser = nobody\nlog_level = info\n'
  printf 'buffer = %s\n' "$BUFFER"
  [[ -n ${AR_BENCH_FILTER:-} ]] && printf 'filter = %s\n' "$AR_BENCH_FILTER"; } > "$t/c.conf"
chmod 644 "$t/c.conf"
"$BIN" capture -i lo --db "$t/db/r.db" --config "$t/c.conf" 2>"$t/err" & pid=$!
for i in $(seq 100); do grep -q 'capturing on' "$t/err" && break; sleep 0.1; done
grep -q 'capturing on' "$t/err" || { echo "bench-live: capture did not start: $(cat "$t/err")"; exit 1; }
tcpreplay --topspeed -i lo "$t/replay.pcap" 2>&1 | grep -E 'Actual|Rated|Failed' || true
sleep 3
kill -TERM $pid; wait $pid
grep -E 'warning|error' "$t/err" || true
"$BIN" stats --db "$t/db/r.db" --json | python3 -c '
import json, sys
c = json.load(sys.stdin)["counters"]
print("buffer '"$BUFFER"':", ", ".join(f"{k} {c[k]}" for k in
      ("kernel_received", "kernel_drops", "iface_drops", "packets", "exchanges", "tcp_gaps",
       "http_parse_errors", "flush_deferred", "db_dropped")))'
"$BIN" endpoints --db "$t/db/r.db" --json > "$t/endpoints.json"
echo "endpoints: $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$t/endpoints.json")"
if [[ -n $TRUTH ]]; then python3 "$SRC/tests/e2e/bench_check.py" endpoints "$TRUTH" "$t/endpoints.json" || true; fi
