#!/usr/bin/env bash
# The command line's own contract: filters that cannot match are bad input, filters
# that match nothing are said, every --help answers on stdout with exit 0, the
# README's command list and the man page's SYNOPSIS name every command and option
# that --help names, and the README's demo output is the real one.
set -u
SRC=${APIROSTER_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${APIROSTER_BIN:-$SRC/build/apiroster}
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
cd "$t" || exit 1
pass=0; fail=0
ok() { pass=$((pass+1)); }
ko() { echo "FAIL: $*"; fail=$((fail+1)); }
"$BIN" capture -r "$SRC/samples/sample.pcap" --db r.db 2>/dev/null || ko "capture"

# ---- endpoints --state: one of the states, else exit 2 naming them
"$BIN" endpoints --db r.db --state bogus >out 2>err; rc=$?
[[ $rc == 2 && ! -s out && $(wc -l <err) == 1 &&
   $(cat err) == "apiroster: endpoints: --state takes documented, shadow, zombie, noise or encrypted, not 'bogus'" ]] \
  && ok || ko "--state bogus: rc=$rc $(cat err)"
for st in documented shadow zombie noise encrypted; do
  n=$("$BIN" endpoints --db r.db --state $st --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
  case $st in shadow) want=12;; noise) want=4;; *) want=0;; esac
  [[ $n == "$want" ]] && ok || ko "--state $st: $n endpoints, want $want"
done

# ---- export openapi with a filter that selects nothing: a warning, nothing written, exit 1
export_none() { # WHAT EXPECTED-WARNING ARGS...
  local what=$1 want=$2; shift 2
  rm -f o.json
  "$BIN" export openapi --db r.db "$@" >out 2>err; local rc=$?
  [[ $rc == 1 && ! -s out && $(wc -l <err) == 1 && $(cat err) == "$want" ]] && ok || ko "$what: rc=$rc $(cat err)"
  "$BIN" export openapi --db r.db "$@" -o o.json 2>/dev/null; rc=$?
  [[ $rc == 1 && ! -e o.json ]] && ok || ko "$what -o: rc=$rc, o.json $( [[ -e o.json ]] && echo written)"
}
export_none "--host nonexistent" \
  "apiroster: export: no endpoint of host nonexistent.test in r.db (noise and TLS-only hosts are left out); nothing written" \
  --host nonexistent.test
export_none "--owner nobody" \
  "apiroster: export: no endpoint owned by nobody in r.db (noise and TLS-only hosts are left out); nothing written" \
  --owner nobody
export_none "--host of noise only" \
  "apiroster: export: no endpoint of host shop.sample.test in r.db (noise and TLS-only hosts are left out); nothing written" \
  --host shop.sample.test
n=$("$BIN" export openapi --db r.db --host api.sample.test | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["paths"]))')
[[ $n == 11 ]] && ok || ko "--host api.sample.test: $n paths"
# no filter: an empty roster is an empty document, exit 0
"$BIN" capture -r "$SRC/samples/sample.pcap" --db e.db --filter 'tcp port 1' 2>/dev/null
"$BIN" export openapi --db e.db > "$t/e.json"; rc=$?
n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["paths"]))' "$t/e.json")
[[ $rc == 0 && $n == 0 ]] && ok || ko "empty roster: rc=$rc $n paths"

# ---- every --help: usage on stdout, nothing on stderr, exit 0
cmds=$("$BIN" --help | awk '/^commands:/{on=1; next} on && NF {print $1} /^$/ && on {exit}')
[[ $(wc -w <<<"$cmds") == 11 ]] && ok || ko "commands: $cmds"
for c in $cmds; do
  "$BIN" $c --help >out 2>err; rc=$?
  [[ $rc == 0 && ! -s err && $(head -c 6 out) == usage: ]] && ok || ko "$c --help: rc=$rc stderr=$(cat err)"
done

# ---- README's command list and the man page's SYNOPSIS: every command, every option
# (a line that starts with "[" continues the one above)
readme=$(sed -n '/^## Commands/,/^Exit codes/p' "$SRC/README.md" |
         awk '/^ +\[/ {sub(/^ +/, " "); line = line $0; next} {if (line != "") print line; line = $0}
              END {print line}')
man=$(sed -n '/^\.SH SYNOPSIS/,/^\.SH DESCRIPTION/p' "$SRC/docs/apiroster.8" | sed 's/\\-/-/g; s/\\f[BIR]//g')
for c in $cmds; do
  opts=$("$BIN" $c --help | grep -oE '(^|[ [|])--?[a-z][a-z-]*' | grep -oE -- '--?[a-z][a-z-]*' | sort -u)
  r=$(grep -E "^ +apiroster $c " <<<"$readme")
  m=$(awk -v c="$c" '/^\.BR? "?apiroster / {w = $3; gsub(/"/, "", w); on = (w == c)} on {print} /^\.br/ {on = 0}' <<<"$man")
  [[ -n $r ]] && ok || ko "README: no line for $c"
  [[ -n $m ]] && ok || ko "man page SYNOPSIS: no entry for $c"
  for o in $opts; do
    [[ $o == --help || $o == -h ]] && continue
    grep -qE -- "(^|[^a-z-])$o([^a-z-]|$)" <<<"$r" && ok || ko "README: $c lacks $o"
    grep -qE -- "(^|[^a-z-])$o([^a-z-]|$)" <<<"$m" && ok || ko "man page: $c lacks $o"
  done
done
# ---- README's demo output is what `endpoints` prints for the sample (and the summary's counts)
"$BIN" endpoints --db r.db > demo.txt
sed -n '/`scripts\/demo.sh` prints/,/^    16 endpoints$/p' "$SRC/README.md" | sed -n 's/^    //p' > readme-demo.txt
diff <(tail -n +2 readme-demo.txt) demo.txt > demo.diff && ok || ko "README demo output differs: $(cat demo.diff)"
[[ $(head -1 readme-demo.txt) == "apiroster: 150 packets, 0.0 MB, 6 flows, 22 exchanges (0 without response), 0 TLS connections, 0 gaps, 0 parse errors, "* ]] \
  && ok || ko "README demo summary: $(head -1 readme-demo.txt)"
echo "cli: $pass passed, $fail failed"
((fail == 0))
