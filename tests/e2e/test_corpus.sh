#!/usr/bin/env bash
# Conformance: every capture of ../shared/corpus/pcap that has expectations in
# ../shared/corpus/expected goes through `apiroster capture --exchanges --tls`,
# and ../shared/corpus/tools/compare-exchanges.py judges the result.
# Cases listed in tests/corpus-known-gaps.txt may fail (each with its reason);
# any other failure fails this test, and so does a listed case that now passes
# (the list must be kept true). Skipped (exit 77) when ../shared is absent.
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
  mkdir -p "$OUT/$sub"
  rm -f "$OUT/db.sqlite"
  if ! "$BIN" capture -r "$pcap" --db "$OUT/db.sqlite" --exchanges "$OUT/$sub/$name.exchanges.jsonl" \
       --tls "$OUT/$sub/$name.tls.jsonl" 2>"$OUT/$sub/$name.stderr"; then
    echo "corpus: apiroster failed on $pcap: $(tail -n1 "$OUT/$sub/$name.stderr")"
  fi
  n=$((n + 1))
done < <(find "$CORPUS/expected" -name '*.expected.jsonl' | sort)
echo "corpus: ran apiroster on $n captures"

python3 "$CORPUS/tools/compare-exchanges.py" --dir "$CORPUS/expected" --actual-dir "$OUT" --tls -v \
  > "$OUT/compare.txt" 2>&1
cat "$OUT/compare.txt" | grep -vE '^\s+(missing|unexpected|  )' | tail -n 200

fail=0
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
