#!/usr/bin/env bash
# The benchmark truth capture (../shared/bench/make-bench-pcap.sh: real nginx, Node
# API and curl/Node clients on loopback): exactly its 63,751 exchanges, each with a
# status; exactly its 49 endpoints; the edge set gives the same exchanges in its
# plain, pcapng and mangled (reordered, duplicated, overlapping) forms, and each of
# its 34 scenarios gives what tests/e2e/edge_scenarios.py says, in every form.
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
for v in edge edge-mangled edge-cut edge-snap128; do
  ext=pcap
  "$BIN" capture -r "$P-$v.$ext" --db "$t/$v.db" --exchanges "$t/$v.jsonl" 2>"$t/$v.err" \
    || { echo "bench: capture of $v failed: $(cat "$t/$v.err")"; fail=1; }
done
"$BIN" capture -r "$P-edge.pcapng" --db "$t/ng.db" --exchanges "$t/edge-ng.jsonl" 2>/dev/null || fail=1
python3 "$SRC/tests/e2e/bench_check.py" same "$t/edge.jsonl" "$t/edge-ng.jsonl" || fail=1
python3 "$SRC/tests/e2e/bench_check.py" same "$t/edge.jsonl" "$t/edge-mangled.jsonl" || fail=1
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
