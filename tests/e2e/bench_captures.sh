# Sourced by the e2e tests that need the benchmark truth capture: makes it once
# into $BENCH (../shared/bench/make-bench-pcap.sh: real nginx, Node API and
# clients on loopback), under a lock so that tests running in parallel wait for
# one another. Sets P (the capture's path without .pcap); exits 77 (skip)
# without ../shared or root.
SHARED=${APIROSTER_SHARED:-$SRC/../shared}
BENCH=${APIROSTER_BENCH_DIR:-${APIROSTER_BUILD:-$SRC/build}/bench}
P=$BENCH/api-200m
[[ -x $SHARED/bench/make-bench-pcap.sh ]] || { echo "bench: $SHARED/bench not found, skipped"; exit 77; }
mkdir -p "$BENCH"
exec 9>"$BENCH/.lock"
flock 9
if [[ ! -f $P.pcap || ! -f $P-edge-mangled.pcap ]]; then
  [[ $(id -u) == 0 ]] || { echo "bench: making the captures needs root, skipped"; exit 77; }
  OUT=$P.pcap bash "$SHARED/bench/make-bench-pcap.sh" >"$BENCH/make.log" 2>&1 \
    || { echo "bench: make-bench-pcap.sh failed:"; tail -n 20 "$BENCH/make.log"; exit 1; }
fi
flock -u 9
