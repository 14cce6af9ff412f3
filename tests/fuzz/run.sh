#!/usr/bin/env bash
# run.sh TARGET SECONDS - build the fuzz targets (clang, build-fuzz/), make the
# seed corpus of TARGET (capture, http or config) and fuzz it for SECONDS on
# one core, at low priority. New inputs go to build-fuzz/fuzz/corpus-TARGET,
# crashes to build-fuzz/fuzz/crash-TARGET/, the log to build-fuzz/fuzz/TARGET.log.
# Prints the final "#N DONE" line and stat::number_of_executed_units.
set -euo pipefail
T=${1:?usage: run.sh capture|shards|http|config|spec|rules SECONDS}
SECS=${2:?usage: run.sh capture|shards|http|config|spec|rules SECONDS}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
B=${APIROSTER_FUZZ_BUILD:-$SRC/build-fuzz}
CC=clang nice -n 10 cmake -S "$SRC" -B "$B" -DAPIROSTER_FUZZ=ON >/dev/null
nice -n 10 cmake --build "$B" -j 1 --target "fuzz_$T" >/dev/null
F=$B/fuzz
rm -rf "$F/seeds-$T"
# shards reads the inputs of capture
python3 "$SRC/tests/fuzz/make_seeds.py" "${T/shards/capture}" "$F/seeds-$T"
mkdir -p "$F/corpus-$T" "$F/crash-$T"
case $T in
  capture|shards) MAXLEN=131072 ;;
  http) MAXLEN=65536 ;;
  config) MAXLEN=8192 ;;
  spec|rules) MAXLEN=262144 ;;
esac
# a known leak inside libfyaml is suppressed (see lsan.supp); ours are not
export LSAN_OPTIONS=suppressions=$SRC/tests/fuzz/lsan.supp
export ASAN_OPTIONS=fast_unwind_on_malloc=0   # full stacks: libfyaml has no frame pointers
set +e
nice -n 10 "$F/fuzz_$T" "$F/corpus-$T" "$F/seeds-$T" -max_total_time="$SECS" -max_len=$MAXLEN \
  -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$F/crash-$T/" \
  >"$F/$T.log" 2>&1
rc=$?
set -e
grep -E "^#[0-9]+[[:space:]]+DONE|^stat::number_of_executed_units|^==[0-9]+==ERROR|^SUMMARY" "$F/$T.log" || true
ls "$F/crash-$T" | sed 's/^/crash: /'
exit $rc
