#!/usr/bin/env bash
# Team names on the command line and in [push "TEAM"] are canonicalized as the
# owners are stored (docs/decisions.md, "Canonical team names"): "@shop/orders",
# "shop/orders", "group:shop/orders" and "@Shop/Orders" are one team for
# `endpoints --owner`, `export openapi --owner` and the routing of [push "TEAM"]
# (the spelling of systemd/apiroster.conf.example); one push target per team.
set -u
SRC=${APIROSTER_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${APIROSTER_BIN:-$SRC/build/apiroster}
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); }
ko() { echo "FAIL: $*"; fail=$((fail+1)); }

printf 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n' > "$t/s.secret"
printf 'api.sample.test/api/v1/orders/** @shop/orders\n' > "$t/CODEOWNERS"
printf '[sources]\nrules = %s/CODEOWNERS\n[push "@shop/orders"]\nurl = http://127.0.0.1:9/x\nsecret_file = %s/s.secret\n' \
  "$t" "$t" > "$t/p.conf"
"$BIN" capture -r "$SRC/samples/sample.pcap" --db "$t/r.db" --config "$t/p.conf" 2>/dev/null || ko "capture"

ORDERS='DELETE /api/v1/orders/{orderId},GET /api/v1/orders/{orderId},GET /api/v1/orders/{orderId}/items,POST /api/v1/orders'
for team in '@shop/orders' 'shop/orders' 'group:shop/orders' '@Shop/Orders'; do
  got=$("$BIN" endpoints --db "$t/r.db" --owner "$team" --json | python3 -c '
import json, sys
e = json.load(sys.stdin)
assert all(x["owner"] == "shop/orders" and x["owner_source"] == "rules" for x in e), e
print(",".join(sorted(x["method"] + " " + x["path"] for x in e)))')
  [[ $got == "$ORDERS" ]] && ok || ko "endpoints --owner $team: $got"
  got=$("$BIN" export openapi --db "$t/r.db" --owner "$team" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["info"]["title"] == "Observed API owned by shop/orders", d["info"]
print(",".join(sorted(m.upper() + " " + p for p, ops in d["paths"].items() for m in ops
                      if m in ("get", "post", "put", "delete", "patch"))))')
  [[ $got == "$ORDERS" ]] && ok || ko "export openapi --owner $team: $got"
done
out=$("$BIN" endpoints --db "$t/r.db" --owner '@' 2>&1); rc=$?
[[ $rc == 2 && $out == *"--owner '@' is not a team name"* ]] && ok || ko "--owner @: rc=$rc $out"

# [push "@shop/orders"]: the deltas of shop/orders (the 4 endpoints), target shop/orders
"$BIN" push --db "$t/r.db" --config "$t/p.conf" --dry-run --json > "$t/dry.json"; rc=$?
python3 - "$t/dry.json" "$ORDERS" <<'PY' && ok || ko "push [push \"@shop/orders\"]: rc=$rc $(head -c 600 "$t/dry.json")"
import json, sys
o = json.load(open(sys.argv[1]))
t = o["targets"]
assert len(t) == 1 and t[0]["target"] == '[push "@shop/orders"]' and t[0]["team"] == "shop/orders", t
assert t[0]["planned"] == 1 and t[0]["pending"] == 1, t
(d,) = o["dry_run"]
b = d["body"]
assert b["target"] == "shop/orders", b["target"]
assert [x["team"] for x in b["deltas"]] == ["shop/orders"] * 4, b["deltas"]
got = ",".join(sorted(x["endpoint"]["method"] + " " + x["endpoint"]["template"] for x in b["deltas"]))
assert got == sys.argv[2], got
PY
[[ $rc == 1 ]] && ok || ko "dry run: pending is exit 1, rc=$rc"

# one target per team, whatever the spelling; a section that names no team
printf '[push "@shop/orders"]\nurl = http://127.0.0.1:9/x\n[push "shop/orders"]\nurl = http://127.0.0.1:9/y\n' > "$t/dup.conf"
out=$("$BIN" config check --config "$t/dup.conf" 2>&1); rc=$?
[[ $rc == 2 && $out == *'dup.conf:3: [push "shop/orders"] given twice (first at line 1 as "@shop/orders")'* ]] \
  && ok || ko "same team twice: rc=$rc $out"
printf '[push "@"]\nurl = http://127.0.0.1:9/x\n' > "$t/bad.conf"
out=$("$BIN" config check --config "$t/bad.conf" 2>&1); rc=$?
[[ $rc == 2 && $out == *'bad.conf:1: [push "@"]: not a team name'* ]] && ok || ko "[push \"@\"]: rc=$rc $out"
echo "teams: $pass passed, $fail failed"
((fail == 0))
