#!/usr/bin/env bash
# Conformance: every capture of ../shared/corpus/pcap that has expectations in
# ../shared/corpus/expected goes through `apiroster capture --exchanges --tls`,
# and ../shared/corpus/tools/compare-exchanges.py judges the result.
# Cases listed in tests/corpus-known-gaps.txt may fail (each with its reason);
# any other failure fails this test, and so does a listed case that now passes
# (the list must be kept true). Every capture is read again with one worker
# ([capture] workers = 1, no shard threads) and must give exactly the same
# exchanges and TLS connections (as sorted lines: the order of exchanges that
# end at the same packet may differ) and the same counters. Skipped (exit 77)
# when ../shared is absent.
set -u
SRC=${APIROSTER_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${APIROSTER_BIN:-$SRC/build/apiroster}
SHARED=${APIROSTER_SHARED:-$SRC/../shared}
CORPUS=$SHARED/corpus
[[ -d $CORPUS/expected ]] || { echo "corpus: $CORPUS not found, skipped"; exit 77; }
OUT=${CORPUS_OUT:-$(mktemp -d)}
mkdir -p "$OUT"
GAPS=$SRC/tests/corpus-known-gaps.txt

n=0
wfail=0
printf '[capture]\nworkers = 2\n' > "$OUT/w2.conf"
printf '[capture]\nworkers = 1\n' > "$OUT/w1.conf"
while IFS= read -r exp; do
  rel=${exp#"$CORPUS/expected/"}
  sub=$(dirname "$rel")
  base=$(basename "$rel")
  name=${base%.exchanges.expected.jsonl}
  name=${name%.tls.expected.jsonl}
  [[ -f $OUT/$sub/$name.exchanges.jsonl ]] && continue
  pcap=""
  for ext in pcap pcapng cap trace; do
    [[ -f $CORPUS/pcap/$sub/$name.$ext ]] && { pcap=$CORPUS/pcap/$sub/$name.$ext; break; }
  done
  [[ -n $pcap ]] || { echo "corpus: no capture for $sub/$name"; continue; }
  mkdir -p "$OUT/$sub" "$OUT/w1/$sub"
  rm -f "$OUT/db.sqlite" "$OUT/w1.sqlite"
  if ! "$BIN" capture -r "$pcap" --db "$OUT/db.sqlite" --exchanges "$OUT/$sub/$name.exchanges.jsonl" \
       --tls "$OUT/$sub/$name.tls.jsonl" --config "$OUT/w2.conf" --json >"$OUT/$sub/$name.json" \
       2>"$OUT/$sub/$name.stderr"; then
    echo "corpus: apiroster failed on $pcap: $(tail -n1 "$OUT/$sub/$name.stderr")"
    wfail=1
  fi
  "$BIN" capture -r "$pcap" --db "$OUT/w1.sqlite" --exchanges "$OUT/w1/$sub/$name.exchanges.jsonl" \
    --tls "$OUT/w1/$sub/$name.tls.jsonl" --config "$OUT/w1.conf" --json >"$OUT/w1/$sub/$name.json" 2>/dev/null \
    || { echo "corpus: apiroster failed on $pcap with 1 worker"; wfail=1; }
  for f in exchanges.jsonl tls.jsonl; do
    cmp -s <(sort "$OUT/$sub/$name.$f") <(sort "$OUT/w1/$sub/$name.$f") \
      || { echo "corpus: $sub/$name: workers 2 and 1 differ in $f"; wfail=1; }
  done
  python3 - "$OUT/$sub/$name.json" "$OUT/w1/$sub/$name.json" <<'PY' || wfail=1
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
# per table, not per capture: each worker's table enters emergency mode itself
skip = {"seconds", "mb_per_s", "flow_emergency", "limit_flow_emergency_recovery"}
d = {k: (a[k], b.get(k)) for k in a if k not in skip and a[k] != b.get(k)}
if d:
    sys.exit(f"corpus: {sys.argv[1]}: counters differ between workers 2 and 1: {d}")
PY
  n=$((n + 1))
done < <(find "$CORPUS/expected" -name '*.expected.jsonl' | sort)
echo "corpus: ran apiroster on $n captures, each with 2 workers and with 1"

python3 "$CORPUS/tools/compare-exchanges.py" --dir "$CORPUS/expected" --actual-dir "$OUT" --tls -v \
  > "$OUT/compare.txt" 2>&1
cat "$OUT/compare.txt" | grep -vE '^\s+(missing|unexpected|  )' | tail -n 200

fail=$wfail
known=$(grep -vE '^\s*(#|$)' "$GAPS" 2>/dev/null | awk '{print $1}' | sort -u)
failed=$(grep -E '^\s*FAIL' "$OUT/compare.txt" | awk '{print $2}' | sort -u)
for c in $failed; do
  if ! grep -qxF "$c" <<<"$known"; then
    echo "corpus: NEW FAILURE $c (fix it, or list it with its reason in tests/corpus-known-gaps.txt)"
    grep -A12 -E "^\s*FAIL\s+$c\b" "$OUT/compare.txt" | head -n 14
    fail=1
  fi
done
for c in $known; do
  if ! grep -qxF "$c" <<<"$failed"; then
    echo "corpus: $c passes now: remove it from tests/corpus-known-gaps.txt"
    fail=1
  fi
done
exit $fail
