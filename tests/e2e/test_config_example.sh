#!/usr/bin/env bash
# The example config parses, and bad configs fail with file:line and exit 2.
set -u
SRC=${APIROSTER_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${APIROSTER_BIN:-$SRC/build/apiroster}
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); }
ko() { echo "FAIL: $*"; fail=$((fail+1)); }
"$BIN" config check --config "$SRC/systemd/apiroster.conf.example" >/dev/null && ok || ko "example config rejected"
"$BIN" config show --config "$SRC/systemd/apiroster.conf.example" | grep -qx 'limits.ooo_bytes = 262144' && ok || ko "256KiB not parsed"
printf '[limits]\nmax_flows = 10\nbogus = 1\n' > "$t/bad.conf"
out=$("$BIN" config check --config "$t/bad.conf" 2>&1); rc=$?
[[ $rc == 2 && $out == *"bad.conf:3: unknown key 'bogus' in [limits]"* ]] && ok || ko "unknown key: rc=$rc out=$out"
printf '[limits]\nmax_flows = lots\n' > "$t/bad2.conf"
out=$("$BIN" config check --config "$t/bad2.conf" 2>&1); rc=$?
[[ $rc == 2 && $out == *"bad2.conf:2: bad value 'lots'"* ]] && ok || ko "bad value: rc=$rc out=$out"
echo "config: $pass passed, $fail failed"
((fail == 0))
