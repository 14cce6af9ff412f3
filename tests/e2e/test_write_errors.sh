#!/usr/bin/env bash
# Write errors are never exit 0 (as coreutils' close_stdout): every command whose
# standard output is a full disk (/dev/full) says "write error: stdout: No space left
# on device" and exits 1; `capture --exchanges/--tls` onto a full disk says so and
# exits 1 without writing the run to the database (run it again: it counts once);
# `export -o` onto a full disk exits 1. Skipped (exit 77) without /dev/full.
set -u
SRC=${APIROSTER_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${APIROSTER_BIN:-$SRC/build/apiroster}
S=$SRC/samples/sample.pcap
[[ -c /dev/full ]] || { echo "write errors: no /dev/full, skipped"; exit 77; }
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
cd "$t" || exit 1
pass=0; fail=0
ok() { pass=$((pass+1)); }
ko() { echo "FAIL: $*"; fail=$((fail+1)); }
ENOSPC="No space left on device"

"$BIN" capture -r "$S" --db r.db 2>/dev/null || ko "capture"
"$BIN" stats --db r.db --json > stats0.json && "$BIN" endpoints --db r.db --json > eps0.json || ko "reads"

# capture: the run is not stored when its --exchanges could not be written (the
# same code closes --tls; the sample has no TLS, so nothing to write there)
"$BIN" capture -r "$S" --db r.db --exchanges /dev/full >out 2>err; rc=$?
[[ $rc == 1 && ! -s out && $(cat err) == "apiroster: write error: /dev/full: $ENOSPC; nothing written to the database" ]] \
  && ok || ko "capture --exchanges /dev/full: rc=$rc $(cat err)"
"$BIN" capture -r "$S" --db r.db --exchanges - > /dev/full 2>err; rc=$?
[[ $rc == 1 && $(cat err) == "apiroster: write error: stdout: $ENOSPC; nothing written to the database" ]] \
  && ok || ko "capture --exchanges - > /dev/full: rc=$rc $(cat err)"
"$BIN" stats --db r.db --json > stats1.json && "$BIN" endpoints --db r.db --json > eps1.json || ko "reads after"
cmp -s stats0.json stats1.json && cmp -s eps0.json eps1.json && ok || ko "the database changed: $(diff stats0.json stats1.json | head -5)"
# the summary on a full stdout: the run is stored (the database came first), exit 1
"$BIN" capture -r "$S" --db r.db --json > /dev/full 2>err; rc=$?
[[ $rc == 1 && $(tail -1 err) == "apiroster: write error: stdout: $ENOSPC" ]] && ok || ko "capture --json > /dev/full: rc=$rc $(cat err)"
runs=$("$BIN" stats --db r.db --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["runs"])')
[[ $runs == 2 ]] && ok || ko "runs after capture --json > /dev/full: $runs"

# every reader, table and JSON, onto a full stdout
full() { # WHAT ARGS...
  local what=$1; shift
  "$@" > /dev/full 2>err; local rc=$?
  [[ $rc == 1 && $(cat err) == "apiroster: write error: stdout: $ENOSPC" ]] && ok || ko "$what > /dev/full: rc=$rc $(cat err)"
}
for cmd in endpoints stats diff owners sources; do
  full "$cmd" "$BIN" $cmd --db r.db
  full "$cmd --json" "$BIN" $cmd --db r.db --json
done
full "owner" "$BIN" owner --db r.db GET http://api.sample.test/healthz
full "export openapi" "$BIN" export openapi --db r.db
full "config show" "$BIN" config show
full "--help" "$BIN" --help
full "endpoints --help" "$BIN" endpoints --help
"$BIN" export openapi --db r.db -o /dev/full 2>err; rc=$?
[[ $rc == 1 && $(cat err) == "apiroster: write error: /dev/full: $ENOSPC" ]] && ok || ko "export -o /dev/full: rc=$rc $(cat err)"
# and the usual cases stay exit 0
"$BIN" endpoints --db r.db > /dev/null && "$BIN" endpoints --db r.db | head -1 > /dev/null && ok || ko "endpoints > /dev/null"
echo "write errors: $pass passed, $fail failed"
((fail == 0))
