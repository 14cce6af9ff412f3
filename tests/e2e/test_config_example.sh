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
printf '[capture]\nsnaplen = 10\n' > "$t/bad3.conf"
out=$("$BIN" config check --config "$t/bad3.conf" 2>&1); rc=$?
[[ $rc == 2 && $out == *"bad3.conf:2: capture.snaplen = 10 is out of range [64, 262144] bytes"* ]] && ok || ko "range: rc=$rc out=$out"
printf '[push "shop"]\nformat = roster\n' > "$t/bad4.conf"
out=$("$BIN" config check --config "$t/bad4.conf" 2>&1); rc=$?
[[ $rc == 2 && $out == *"bad4.conf:1: push target without url"* ]] && ok || ko "push url: rc=$rc out=$out"
printf '[push]\nurl = http://127.0.0.1:1/\nformat = xml\n' > "$t/bad5.conf"
out=$("$BIN" config check --config "$t/bad5.conf" 2>&1); rc=$?
[[ $rc == 2 && $out == *"bad5.conf:3: bad value 'xml' for push.format (one of roster|openapi)"* ]] && ok || ko "push format: rc=$rc out=$out"
printf '[push "a"]\nurl = http://x/\n[push "a"]\n' > "$t/bad6.conf"
out=$("$BIN" config check --config "$t/bad6.conf" 2>&1); rc=$?
[[ $rc == 2 && $out == *"bad6.conf:3: [push \"a\"] given twice (first at line 1)"* ]] && ok || ko "push twice: rc=$rc out=$out"
printf '[sources]\nspec = /x.yaml\n[owners]\nhost = *.shop.test shop\n[push "shop"]\nurl = http://127.0.0.1:9/\nbatch = 5\n' > "$t/ok.conf"
out=$("$BIN" config show --config "$t/ok.conf" 2>&1); rc=$?
[[ $rc == 0 && $out == *"sources.spec = /x.yaml"* && $out == *"owners.host = *.shop.test shop"* && $out == *'push "shop".batch = 5'* && $out == *'push "shop".interval = 60'* ]] && ok || ko "sections: rc=$rc out=$out"
# max_children = 0 turns the collapse off (docs/templating.md); every other limit is >= 1
printf '[limits]\nmax_children = 0\n' > "$t/mc0.conf"
out=$("$BIN" config show --config "$t/mc0.conf" 2>&1); rc=$?
[[ $rc == 0 && $out == *"limits.max_children = 0"* ]] && ok || ko "max_children = 0: rc=$rc out=$out"
printf '[limits]\nmax_tracked_children = 0\n' > "$t/mt0.conf"
out=$("$BIN" config check --config "$t/mt0.conf" 2>&1); rc=$?
[[ $rc == 2 && $out == *"mt0.conf:2: limits.max_tracked_children = 0 is out of range [1, "* ]] && ok || ko "max_tracked_children = 0: rc=$rc out=$out"
# config check refuses what a capture would refuse at start: a filter that does not
# compile, a bad owner pin or host rule, a missing source, a push url that is not
# http(s), a directory
chk() { # FILE-CONTENT EXPECTED-TEXT WHAT
  printf "$1" > "$t/c.conf"
  out=$("$BIN" config check --config "$t/c.conf" 2>&1); rc=$?
  [[ $rc == 2 && $out == *"$2"* ]] && ok || ko "$3: rc=$rc out=$out"
}
chk '[capture]\nfilter = not a bpf ((\n' "c.conf: filter 'not a bpf ((': " "bad filter"
chk '[owners]\npin = api/x\n' "c.conf:2: owner pin needs PATTERN TEAM" "owner pin"
chk '[owners]\nhost = 10.0.0.0/99 @t\n' "c.conf:2: bad host rule" "host rule"
chk '[sources]\nspec = /nonexistent/spec.yaml\n' "/nonexistent/spec.yaml: No such file or directory (from $t/c.conf:2)" "missing source"
chk '[push]\nurl = ftp://x\n' "c.conf:1: push url must start with https:// or http://" "push url scheme"
out=$("$BIN" config check --config "$t" 2>&1); rc=$?
[[ $rc == 2 && $out == *"$t: is a directory"* ]] && ok || ko "directory: rc=$rc out=$out"
echo "config: $pass passed, $fail failed"
((fail == 0))
