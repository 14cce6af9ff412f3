#!/usr/bin/env bash
# The main job on the sample capture that ships in samples/ (real curl and Python
# traffic, scripts/make-sample-pcap.sh): the roster it gives, hits adding up over two
# runs, and no credential, cookie or query value anywhere it writes.
set -u
SRC=${APIROSTER_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${APIROSTER_BIN:-$SRC/build/apiroster}
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
"$BIN" capture -r "$SRC/samples/sample.pcap" --db "$t/r.db" --exchanges "$t/x.jsonl" --json \
  >"$t/summary.json" 2>"$t/stderr" || { echo "FAIL: capture"; cat "$t/stderr"; exit 1; }
"$BIN" endpoints --db "$t/r.db" --json > "$t/e1.json"
"$BIN" capture -r "$SRC/samples/sample.pcap" --db "$t/r.db" 2>>"$t/stderr" || exit 1
"$BIN" endpoints --db "$t/r.db" --json > "$t/e2.json"
"$BIN" stats --db "$t/r.db" --json > "$t/stats.json"
python3 - "$t" <<'PY'
import json, sys
t = sys.argv[1]
e1 = {(e["host"], e["method"], e["path"]): e for e in json.load(open(f"{t}/e1.json"))}
e2 = {(e["host"], e["method"], e["path"]): e for e in json.load(open(f"{t}/e2.json"))}
summary = json.load(open(f"{t}/summary.json"))
stats = json.load(open(f"{t}/stats.json"))
ok = fail = 0
def check(c, what):
    global ok, fail
    if c: ok += 1
    else: fail += 1; print("FAIL:", what)
A = "api.sample.test"
check(len(e1) == 16, f"16 endpoints, got {len(e1)}: {sorted(e1)}")
u = e1.get((A, "GET", "/api/v1/users/{userId}"))
check(u and u["hits"] == 3 and u["statuses"] == {"200": 3} and u["rule"] == "typed", f"users/{{userId}}: {u}")
check(u and u["auth"] == ["bearer"], f"users auth: {u and u['auth']}")
me = e1.get((A, "GET", "/api/v1/users/me"))
check(me and me["rule"] == "literal" and me["hits"] == 1, f"users/me: {me}")
o = e1.get((A, "GET", "/api/v1/orders/{orderId}"))
check(o and o["auth"] == ["apikey"] and o["content_types"]["response"] == ["application/json"], f"orders: {o}")
d = e1.get((A, "GET", "/api/v1/reports/daily/{date}"))
check(d and d["hits"] == 2, f"reports: {d}")
s = e1.get((A, "GET", "/api/v1/search"))
check(s and sorted(s["query"]) == ["page", "q"], f"search query names: {s}")
p = e1.get((A, "POST", "/api/v1/orders"))
check(p and p["auth"] == ["cookie"] and p["content_types"]["request"] == ["application/json"]
      and p["statuses"] == {"201": 1}, f"POST orders: {p}")
env = e1.get(("shop.sample.test", "GET", "/.env"))
check(env and env["noise"] is True, f".env noise: {env}")
check(u and not u["noise"], "users not noise")
check(summary["exchanges"] == 22 and summary["requests_no_response"] == 0, f"summary: {summary['exchanges']}")
u2 = e2.get((A, "GET", "/api/v1/users/{userId}"))
check(u2 and u2["hits"] == 6 and u2["statuses"] == {"200": 6}, f"second run adds up: {u2}")
check(len(e2) == 16, "same endpoints after the second run")
check(stats["runs"] == 2 and stats["counters"]["exchanges"] == 44, f"stats: {stats['runs']} {stats['counters']['exchanges']}")
print(f"sample: {ok} passed, {fail} failed")
sys.exit(1 if fail else 0)
PY
rc=$?
# operator pins from the config: a template always used, a literal never merged
printf '[templates]\npin = /api/v1/users/{id}\npin = api.sample.test /api/v1/reports/daily/2026-11-30\n' > "$t/pins.conf"
"$BIN" capture -r "$SRC/samples/sample.pcap" --db "$t/p.db" --config "$t/pins.conf" 2>/dev/null || rc=1
"$BIN" endpoints --db "$t/p.db" --json > "$t/p.json" || rc=1
python3 - "$t/p.json" <<'PY' || rc=1
import json, sys
e = {(x["method"], x["path"]): x for x in json.load(open(sys.argv[1])) if x["host"] == "api.sample.test"}
ok = True
def check(c, what):
    global ok
    if not c:
        ok = False
        print("FAIL:", what)
u = e.get(("GET", "/api/v1/users/{id}"))
# a pinned template is always used: {id} takes every segment, "me" included
# (pin /api/v1/users/me too to keep it apart)
check(u and u["rule"] == "pin" and u["hits"] == 4, f"template pin: {u}")
check(("GET", "/api/v1/users/me") not in e, "users/me falls under the pinned template")
lit = e.get(("GET", "/api/v1/reports/daily/2026-11-30"))
check(lit and lit["rule"] == "pin" and lit["hits"] == 1, f"literal pin: {lit}")
d = e.get(("GET", "/api/v1/reports/daily/{date}"))
check(d and d["hits"] == 1, f"the other date still templated: {d}")
print("pins:", "ok" if ok else "failed")
sys.exit(0 if ok else 1)
PY
# privacy: the sample carries these values; none may be stored or written
for secret in sample-not-a-real-token sample-key not-a-real-session secret+words; do
  # the database files as bytes (no sqlite3 needed, the WAL included) and a dump
  if cat "$t"/r.db* | grep -aqF "$secret" || sqlite3 "$t/r.db" .dump | grep -qF "$secret" ||
     grep -qF "$secret" "$t/x.jsonl" "$t/stderr" "$t/e1.json"; then
    echo "FAIL: '$secret' was stored or written"; rc=1
  fi
done
exit $rc
