#!/usr/bin/env bash
# The benchmark truth capture (../shared/bench/make-bench-pcap.sh: real nginx, Node
# API and curl/Node clients on loopback): exactly its 63,751 exchanges, each with a
# status; exactly its 49 endpoints; the edge set gives the same exchanges in its
# plain, pcapng and mangled (reordered, duplicated, overlapping) forms, and each of
# its 34 scenarios gives what tests/e2e/edge_scenarios.py says, in every form.
# The truth capture read with 1 and 3 workers ([capture] workers) gives the same
# roster, the same exchanges (sorted) and the same counters as the default run;
# so does the mangled edge capture with 3 workers against 1.
# The captures are made once into $APIROSTER_BUILD/bench (needs root and apt-get);
# skipped (exit 77) without ../shared or root.
set -u
SRC=${APIROSTER_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${APIROSTER_BIN:-$SRC/build/apiroster}
. "$SRC/tests/e2e/bench_captures.sh"
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
fail=0
"$BIN" capture -r "$P.pcap" --db "$t/b.db" --exchanges "$t/bulk.jsonl" || fail=1
python3 "$SRC/tests/e2e/bench_check.py" exchanges "$P.truth.tsv" "$t/bulk.jsonl" || fail=1
"$BIN" endpoints --db "$t/b.db" --json > "$t/endpoints.json" || fail=1
python3 "$SRC/tests/e2e/bench_check.py" endpoints "$P.truth.tsv" "$t/endpoints.json" || fail=1
# workers: the same results whatever the number of shard threads
printf '[capture]\nworkers = 1\n' > "$t/w1.conf"
printf '[capture]\nworkers = 3\n' > "$t/w3.conf"
same_run() { # NAME PCAP REF-DB REF-JSONL CONF
  "$BIN" capture -r "$2" --db "$t/$1.db" --exchanges "$t/$1.jsonl" --config "$5" --json \
    >"$t/$1.json" 2>/dev/null || { echo "bench: $1 failed"; fail=1; }
  "$BIN" endpoints --db "$3" --json > "$t/$1.ref.endpoints" && [[ -s $t/$1.ref.endpoints ]] \
    || { echo "bench: $1: endpoints of the reference failed"; fail=1; }
  "$BIN" endpoints --db "$t/$1.db" --json > "$t/$1.endpoints" && [[ -s $t/$1.endpoints ]] \
    || { echo "bench: $1: endpoints failed"; fail=1; }
  cmp -s "$t/$1.ref.endpoints" "$t/$1.endpoints" || { echo "bench: $1: another roster"; fail=1; }
  cmp -s <(sort "$4") <(sort "$t/$1.jsonl") || { echo "bench: $1: other exchanges"; fail=1; }
  echo "bench: $1: $(wc -l < "$t/$1.jsonl") exchanges, $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$t/$1.endpoints") endpoints, as the reference"
}
"$BIN" capture -r "$P.pcap" --db "$t/w0.db" --json > "$t/w0.json" 2>/dev/null
same_run bulk-w1 "$P.pcap" "$t/b.db" "$t/bulk.jsonl" "$t/w1.conf"
same_run bulk-w3 "$P.pcap" "$t/b.db" "$t/bulk.jsonl" "$t/w3.conf"
python3 - "$t/w0.json" "$t/bulk-w1.json" "$t/bulk-w3.json" <<'PY' || fail=1
import json, sys
runs = [json.load(open(f)) for f in sys.argv[1:]]
skip = {"seconds", "mb_per_s", "flow_emergency", "limit_flow_emergency_recovery"}
for r, f in zip(runs[1:], sys.argv[2:]):
    d = {k: (runs[0][k], r.get(k)) for k in runs[0] if k not in skip and runs[0][k] != r.get(k)}
    if d:
        sys.exit(f"bench: {f}: counters differ from the default run: {d}")
PY
for v in edge edge-mangled edge-cut edge-snap128; do
  ext=pcap
  "$BIN" capture -r "$P-$v.$ext" --db "$t/$v.db" --exchanges "$t/$v.jsonl" 2>"$t/$v.err" \
    || { echo "bench: capture of $v failed: $(cat "$t/$v.err")"; fail=1; }
done
"$BIN" capture -r "$P-edge.pcapng" --db "$t/ng.db" --exchanges "$t/edge-ng.jsonl" 2>/dev/null || fail=1
python3 "$SRC/tests/e2e/bench_check.py" same "$t/edge.jsonl" "$t/edge-ng.jsonl" || fail=1
python3 "$SRC/tests/e2e/bench_check.py" same "$t/edge.jsonl" "$t/edge-mangled.jsonl" || fail=1
same_run mangled-w3 "$P-edge-mangled.pcap" "$t/edge-mangled.db" "$t/edge-mangled.jsonl" "$t/w3.conf"
# the cut file ends inside its last packet: at most the last exchange may differ
python3 "$SRC/tests/e2e/bench_check.py" same "$t/edge.jsonl" "$t/edge-cut.jsonl" --allow-missing 1 || fail=1
# what each of the 34 scenarios must give, in every form of the edge capture
E=$SRC/tests/e2e/edge_scenarios.py
python3 "$E" plain "$t/edge.jsonl" || fail=1
python3 "$E" pcapng "$t/edge-ng.jsonl" || fail=1
python3 "$E" mangled "$t/edge-mangled.jsonl" || fail=1
python3 "$E" cut "$t/edge-cut.jsonl" || fail=1
python3 "$E" snap128 "$t/edge-snap128.jsonl" "$t/edge.jsonl" || fail=1
echo "bench edge: $(wc -l < "$t/edge.jsonl") exchanges in the plain edge capture (Suricata: 377 requests)"
exit $fail
