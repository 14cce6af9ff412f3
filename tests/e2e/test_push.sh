#!/usr/bin/env bash
# Push to a real Standard Webhooks receiver on loopback (tests/e2e/webhook_receiver.py):
# signatures verify, the bodies hold exactly the sample's new endpoints, a receiver
# that is down then up gets every delivery exactly once, 503 then 200 re-sends the same
# webhook-id and bytes, 429 honours Retry-After, 410 disables, kill -9 in the middle
# loses nothing, and no planted credential reaches a body, the database or a log.
set -u
SRC=${APIROSTER_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${APIROSTER_BIN:-$SRC/build/apiroster}
RECV="$SRC/tests/e2e/webhook_receiver.py"
command -v python3 >/dev/null || { echo "skip: no python3"; exit 77; }
command -v sqlite3 >/dev/null || { echo "skip: no sqlite3 CLI"; exit 77; }
t=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$t"; }
trap cleanup EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); }
ko() { echo "FAIL: $*"; fail=$((fail+1)); }
check() { if eval "$1"; then ok; else ko "$2"; fi; }

printf 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n' > "$t/secret"
printf '# extra headers\nX-Pipeline-Token: pipeline-header-value-7731\n\nX-Team: appsec\n' > "$t/headers"

# start_receiver NAME [ARGS...]: starts it on a free port; sets PORT.
start_receiver() {
  local name=$1; shift
  rm -f "$t/$name.port"
  python3 "$RECV" --secret-file "$t/secret" --log "$t/$name.jsonl" --port-file "$t/$name.port" \
    "$@" 2>>"$t/receiver.err" &
  pids+=($!)
  RPID=$!
  for _ in $(seq 100); do [[ -s $t/$name.port ]] && break; sleep 0.05; done
  PORT=$(cat "$t/$name.port")
}
# conf NAME PORT [BATCH] [EXTRA]: a config with one [push] target
conf() {
  printf '[push]\nurl = http://127.0.0.1:%s/hook\nsecret_file = %s\nheaders_file = %s\nbatch = %s\nconnect_timeout = 2s\ntimeout = 10s\n%s' \
    "$2" "$t/secret" "$t/headers" "${3:-5}" "${4:-}" > "$t/$1.conf"
}
# roster NAME: a fresh database from the sample capture (planted credentials inside)
roster() {
  "$BIN" capture -r "$SRC/samples/sample.pcap" --db "$t/$1.db" >/dev/null 2>>"$t/logs.txt" || ko "capture $1"
}
"$BIN" capture -r "$SRC/samples/sample.pcap" --db "$t/ref.db" >/dev/null 2>>"$t/logs.txt"
"$BIN" endpoints --db "$t/ref.db" --json > "$t/endpoints.json"

# analyse LOG DB: python checks on a receiver log; prints "key=value" facts
analyse() {
  python3 - "$t/endpoints.json" "$@" <<'PY'
import json, sys, sqlite3
eps = json.load(open(sys.argv[1]))
log = [json.loads(l) for l in open(sys.argv[2])] if len(sys.argv) > 2 else []
db = sqlite3.connect(sys.argv[3]) if len(sys.argv) > 3 else None
want = sorted((e["host"], e["method"], e["path"]) for e in eps)
ok = [r for r in log if 200 <= r["status"] < 300]
got = []
for r in ok:
    for d in json.loads(r["body"])["deltas"]:
        got.append((d["endpoint"]["host"], d["endpoint"]["method"], d["endpoint"]["template"]))
ids = [r["id"] for r in ok]
by_id = {}
same = True
for r in log:
    if r["id"] in by_id and by_id[r["id"]] != r["body"]:
        same = False
    by_id.setdefault(r["id"], r["body"])
# state/owner fields: equal to the roster's when the roster has them
fields_ok = True
roster = {(e["host"], e["method"], e["path"]): e for e in eps}
for r in ok:
    for d in json.loads(r["body"])["deltas"]:
        e = d["endpoint"]
        ref = roster.get((e["host"], e["method"], e["template"]), {})
        for f in ("state", "owner", "owner_source"):
            if f in ref and ref[f] != e.get(f):
                fields_ok = False
        if ref.get("hits") != e["hits"] or ref.get("auth") != e["auth"]:
            fields_ok = False
print("requests=%d" % len(log))
print("all_valid=%d" % all(r["valid"] for r in log))
print("exact_set=%d" % (sorted(got) == want))
print("no_dup_accepted=%d" % (len(ids) == len(set(ids))))
print("resent_same_bytes=%d" % same)
print("fields_ok=%d" % fields_ok)
print("distinct_ids=%d" % len(set(r["id"] for r in log)))
print("dup_requests=%d" % (len(log) - len(set(r["id"] for r in log))))
print("max_deltas=%d" % max([len(json.loads(r["body"])["deltas"]) for r in log] or [0]))
if db:
    dbids = {w for (w,) in db.execute("SELECT webhook_id FROM delivery")}
    print("db_deliveries=%d" % len(dbids))
    print("log_ids_in_db=%d" % set(r["id"] for r in log).issubset(dbids))
    print("db_undelivered=%d" % db.execute("SELECT count(*) FROM delivery WHERE status<>'delivered'").fetchone()[0])
PY
}
fact() { grep -x "$1=.*" <<<"$2" | cut -d= -f2; }

# ---- 1. plain push: signature, exact endpoint set, extra headers, health; dry run first
roster a
start_receiver a
conf a "$PORT" 5
"$BIN" push --config "$t/a.conf" --db "$t/a.db" --dry-run > "$t/dry.txt" 2>>"$t/logs.txt"; rc=$?
check '[[ $rc == 1 ]]' "dry run with pending deltas exits 1 (rc=$rc)"
check '[[ ! -s $t/a.jsonl ]]' "dry run sent nothing"
check '[[ $(sqlite3 "$t/a.db" "SELECT count(*) FROM delivery") == 0 ]]' "dry run stored no delivery"
check 'grep -q "^\[push\] msg_[0-9a-f]\{32\} (new" "$t/dry.txt"' "dry run prints target and webhook-id"
check 'grep -q "\"template\":\"/api/v1/users/{userId}\"" "$t/dry.txt"' "dry run prints the body"
"$BIN" push --config "$t/a.conf" --db "$t/a.db" --json > "$t/a.out" 2>>"$t/logs.txt"; rc=$?
check '[[ $rc == 0 ]]' "push exits 0 when everything is delivered (rc=$rc)"
f=$(analyse "$t/a.jsonl" "$t/a.db")
check '[[ $(fact requests "$f") == 4 && $(fact max_deltas "$f") == 5 ]]' "16 deltas in 4 deliveries of at most 5: $f"
check '[[ $(fact all_valid "$f") == 1 ]]' "every signature verifies with the secret"
check '[[ $(fact exact_set "$f") == 1 ]]' "bodies hold exactly the endpoints of apiroster endpoints --json"
check '[[ $(fact fields_ok "$f") == 1 ]]' "hits, auth (and state/owner when present) equal the roster's"
python3 - "$t/a.jsonl" "$t/a.out" <<'PY' && ok || ko "body shape, headers, health, json summary"
import json, re, sys
log = [json.loads(l) for l in open(sys.argv[1])]
out = json.load(open(sys.argv[2]))
r = log[0]; b = json.loads(r["body"])
assert re.fullmatch(r"msg_[0-9a-f]{32}", r["id"]), r["id"]
assert b["id"] == r["id"] and b["type"] == "apiroster.roster.delta" and b["agent"], b
assert r["content_type"] == "application/json"
assert r["headers"]["x-pipeline-token"] == "pipeline-header-value-7731" and r["headers"]["x-team"] == "appsec"
assert re.fullmatch(r"v1,[A-Za-z0-9+/]{43}=", r["signature"]), r["signature"]
assert r["timestamp"].isdigit() and abs(int(r["timestamp"]) - r["received"]) < 60
d = b["deltas"][0]
assert d["event"] == "endpoint.new" and d["seq"] == 1 and d["team"] is None, d
assert b["health"]["packets"] == 150 and b["health"]["exchanges"] == 22, b["health"]
assert "kernel_drops" in b["health"] and "tcp_gaps" in b["health"] and "limit_max_flows" in b["health"]
assert json.loads(log[1]["body"])["health"]["packets"] == 0     # same period: counted once
assert out["delivered"] == 4 and out["pending"] == 0 and out["exit"] == 0, out
PY
"$BIN" push --config "$t/a.conf" --db "$t/a.db" >/dev/null 2>>"$t/logs.txt"; rc=$?
check '[[ $rc == 0 && $(wc -l < "$t/a.jsonl") == 4 ]]' "nothing new: nothing sent, exit 0"
"$BIN" capture -r "$SRC/samples/sample.pcap" --db "$t/a.db" >/dev/null 2>>"$t/logs.txt"
"$BIN" push --config "$t/a.conf" --db "$t/a.db" >/dev/null 2>>"$t/logs.txt"
check '[[ $(wc -l < "$t/a.jsonl") == 4 ]]' "known endpoints seen again are not new deltas"

# ---- 2. a team target gets only its team's deltas; the team as the example config
# spells it ("@team", any case): owners are stored canonical, so is the target
sqlite3 "$t/a.db" "BEGIN; INSERT INTO outbox(created,event,team,payload) VALUES(1,'endpoint.owner','payments','{\"host\":\"api.sample.test\",\"method\":\"GET\",\"template\":\"/api/v1/orders/{orderId}\",\"owner\":\"payments\",\"previous\":{\"owner\":null}}'); COMMIT;"
start_receiver team
printf '[push "@Payments"]\nurl = http://127.0.0.1:%s/t\nsecret_file = %s\n' "$PORT" "$t/secret" >> "$t/a.conf"
"$BIN" push --config "$t/a.conf" --db "$t/a.db" >/dev/null 2>>"$t/logs.txt"; rc=$?
python3 - "$t/team.jsonl" "$t/a.jsonl" <<'PY' && ok || ko "team routing"
import json, sys
team = [json.loads(json.loads(l)["body"]) for l in open(sys.argv[1])]
main = [json.loads(json.loads(l)["body"]) for l in open(sys.argv[2])]
assert len(team) == 1 and [d["team"] for d in team[0]["deltas"]] == ["payments"], team
assert team[0]["deltas"][0]["endpoint"]["previous"] == {"owner": None}
assert team[0]["target"] == "payments"
assert len(main) == 5 and main[4]["deltas"][0]["event"] == "endpoint.owner"   # main gets every delta
PY
check '[[ $rc == 0 ]]' "team push exit 0 (rc=$rc)"

# ---- 3. receiver down, then up: every delivery exactly once by webhook-id
roster b
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
conf b "$PORT" 3
"$BIN" push --config "$t/b.conf" --db "$t/b.db" --json > "$t/b.out" 2>>"$t/logs.txt"; rc=$?
check '[[ $rc == 1 ]]' "receiver down: exit 1 (rc=$rc)"
python3 - "$t/b.out" <<'PY' && ok || ko "receiver down: pending and the error are reported"
import json, sys
o = json.load(open(sys.argv[1]))["targets"][0]
assert o["pending"] == 6 and o["delivered"] == 0 and o["attempts"] == 1, o
assert "onnect" in o["last_error"] and o["next_attempt"], o
PY
"$BIN" push --config "$t/b.conf" --db "$t/b.db" >/dev/null 2>>"$t/logs.txt"; rc=$?
check '[[ $rc == 1 ]]' "still down: exit 1"
check '[[ $(sqlite3 "$t/b.db" "SELECT attempts FROM delivery ORDER BY id LIMIT 1") == 2 ]]' "attempts counted in the database"
start_receiver b --port "$PORT"
"$BIN" push --config "$t/b.conf" --db "$t/b.db" >/dev/null 2>>"$t/logs.txt"; rc=$?
check '[[ $rc == 0 ]]' "receiver up: exit 0 (rc=$rc)"
f=$(analyse "$t/b.jsonl" "$t/b.db")
check '[[ $(fact requests "$f") == 6 && $(fact distinct_ids "$f") == 6 && $(fact no_dup_accepted "$f") == 1 ]]' "every delivery exactly once: $f"
check '[[ $(fact exact_set "$f") == 1 && $(fact db_undelivered "$f") == 0 ]]' "none lost: $f"

# ---- 4. 503 then 200: the same webhook-id and the same bytes
roster c
start_receiver c --fail-status 503 --fail-count 1
conf c "$PORT" 100
"$BIN" push --config "$t/c.conf" --db "$t/c.db" >/dev/null 2>>"$t/logs.txt"; rc=$?
check '[[ $rc == 1 ]]' "503: exit 1 (rc=$rc)"
check '[[ $(sqlite3 "$t/c.db" "SELECT status||\",\"||last_http||\",\"||attempts FROM delivery") == "pending,503,1" ]]' "503 recorded for a retry"
"$BIN" push --config "$t/c.conf" --db "$t/c.db" >/dev/null 2>>"$t/logs.txt"; rc=$?
check '[[ $rc == 0 ]]' "then 200: exit 0"
python3 - "$t/c.jsonl" <<'PY' && ok || ko "503 then 204: same webhook-id, same body, both signed"
import json, sys
log = [json.loads(l) for l in open(sys.argv[1])]
assert len(log) == 2 and [r["status"] for r in log] == [503, 204], log
assert log[0]["id"] == log[1]["id"] and log[0]["body"] == log[1]["body"]
assert all(r["valid"] for r in log)
PY

# ---- 5. 429 with Retry-After: the wait is recorded
roster d
start_receiver d --fail-status 429 --fail-count 1 --retry-after 120
conf d "$PORT" 100
"$BIN" push --config "$t/d.conf" --db "$t/d.db" >/dev/null 2>>"$t/logs.txt"; rc=$?
w=$(sqlite3 "$t/d.db" "SELECT CAST(round(next_attempt-last_attempt) AS INTEGER)||','||last_http FROM delivery")
check '[[ $rc == 1 && $w == "120,429" ]]' "Retry-After: 120 honoured (next - last = $w)"
roster d2
start_receiver d2 --fail-status 503 --fail-count 1 --retry-after "$(python3 -c 'import email.utils,time; print(email.utils.formatdate(time.time()+300, usegmt=True))')"
conf d2 "$PORT" 100
"$BIN" push --config "$t/d2.conf" --db "$t/d2.db" >/dev/null 2>>"$t/logs.txt"
w=$(sqlite3 "$t/d2.db" "SELECT CAST(round(next_attempt-last_attempt) AS INTEGER) FROM delivery")
check '[[ $w -ge 295 && $w -le 301 ]]' "Retry-After as an HTTP-date honoured (wait $w)"
roster d3
start_receiver d3 --fail-status 503 --fail-count 1
conf d3 "$PORT" 100
"$BIN" push --config "$t/d3.conf" --db "$t/d3.db" >/dev/null 2>>"$t/logs.txt"
w=$(sqlite3 "$t/d3.db" "SELECT next_attempt-last_attempt FROM delivery")
check 'python3 -c "import sys; sys.exit(not (1 <= $w <= 2.001))"' "first backoff within [1, 2] s (got $w)"

# ---- 6. 410 disables the target, persistently
roster e
start_receiver e --fail-status 410 --fail-count 1000
conf e "$PORT" 100
"$BIN" push --config "$t/e.conf" --db "$t/e.db" > "$t/e1.txt" 2>"$t/e1.err"; rc=$?
check '[[ $rc == 1 ]] && grep -q "DISABLED since" "$t/e1.txt"' "410: exit 1, reported disabled"
check '[[ $(grep -c "410 Gone: target disabled" "$t/e1.err") == 1 ]]' "410 logged once"
"$BIN" push --config "$t/e.conf" --db "$t/e.db" --json > "$t/e2.json" 2>"$t/e2.err"; rc=$?
check '[[ $rc == 1 && $(wc -l < "$t/e.jsonl") == 1 ]]' "disabled: no further request"
check 'python3 -c "import json,sys; o=json.load(open(sys.argv[1]))[\"targets\"][0]; sys.exit(not (o[\"disabled\"] and o[\"pending\"]==1 and o[\"disabled_at\"]))" "$t/e2.json"' "push --json reports the disabled target"
check '[[ ! -s $t/e2.err ]]' "not logged again"
cat "$t/e1.err" "$t/e2.err" >> "$t/logs.txt"

# ---- 7. other 4xx: dead letter, kept and reported; --retry-failed sends it again
roster g
start_receiver g --fail-status 400 --fail-count 1
conf g "$PORT" 100
"$BIN" push --config "$t/g.conf" --db "$t/g.db" --json > "$t/g.json" 2>>"$t/logs.txt"; rc=$?
check '[[ $rc == 1 && $(sqlite3 "$t/g.db" "SELECT status FROM delivery") == failed ]]' "400: dead letter, exit 1"
"$BIN" push --config "$t/g.conf" --db "$t/g.db" >/dev/null 2>>"$t/logs.txt"; rc=$?
check '[[ $rc == 1 && $(wc -l < "$t/g.jsonl") == 1 ]]' "dead letter not retried by itself"
"$BIN" push --config "$t/g.conf" --db "$t/g.db" --retry-failed >/dev/null 2>>"$t/logs.txt"; rc=$?
check '[[ $rc == 0 && $(wc -l < "$t/g.jsonl") == 2 ]]' "--retry-failed delivers it"

# ---- 8. kill -9 in the middle, then a new push: nothing lost, same webhook-ids
roster k
start_receiver k --delay 1
conf k "$PORT" 2
"$BIN" push --config "$t/k.conf" --db "$t/k.db" >/dev/null 2>>"$t/logs.txt" &
kp=$!
sleep 3
kill -9 "$kp"; wait "$kp" 2>/dev/null
n_before=$(wc -l < "$t/k.jsonl")
"$BIN" push --config "$t/k.conf" --db "$t/k.db" >/dev/null 2>>"$t/logs.txt"; rc=$?
check '[[ $rc == 0 ]]' "push after kill -9: exit 0 (rc=$rc)"
f=$(analyse "$t/k.jsonl" "$t/k.db"); echo "kill -9 facts (n_before=$n_before):" $f
check '[[ $n_before -ge 2 && $n_before -lt 8 ]]' "killed in the middle ($n_before of 8 requests)"
check '[[ $(fact db_deliveries "$f") == 8 && $(fact distinct_ids "$f") == 8 ]]' "8 deliveries, 8 webhook-ids: $f"
check '[[ $(fact exact_set "$f") == 1 || $(fact dup_requests "$f") -ge 1 ]]' "every endpoint delivered: $f"
check '[[ $(fact resent_same_bytes "$f") == 1 && $(fact log_ids_in_db "$f") == 1 ]]' "duplicates carry the same webhook-id and body: $f"
check '[[ $(fact dup_requests "$f") -ge 1 && $(fact db_undelivered "$f") == 0 ]]' "the request in flight at kill -9 was sent again: $f"
python3 - "$t/k.jsonl" "$t/endpoints.json" <<'PY' && ok || ko "kill -9: union of delivered deltas is the roster"
import json, sys
eps = {(e["host"], e["method"], e["path"]) for e in json.load(open(sys.argv[2]))}
got = set()
for l in open(sys.argv[1]):
    for d in json.loads(json.loads(l)["body"])["deltas"]:
        got.add((d["endpoint"]["host"], d["endpoint"]["method"], d["endpoint"]["template"]))
assert got == eps, eps ^ got
PY

# ---- 9a. format = openapi: the whole observed document, once per change
roster o
start_receiver o
conf o "$PORT" 5 $'format = openapi\n'
"$BIN" export openapi --db "$t/o.db" -o "$t/o-export.json" 2>>"$t/logs.txt"
"$BIN" push --config "$t/o.conf" --db "$t/o.db" >/dev/null 2>>"$t/logs.txt"; rc=$?
"$BIN" push --config "$t/o.conf" --db "$t/o.db" >/dev/null 2>>"$t/logs.txt"; rc2=$?
sqlite3 "$t/o.db" "INSERT INTO outbox(created,event,team,payload) VALUES(1,'endpoint.state',NULL,'{\"host\":\"api.sample.test\",\"method\":\"GET\",\"template\":\"/healthz\"}');"
"$BIN" push --config "$t/o.conf" --db "$t/o.db" >/dev/null 2>>"$t/logs.txt"; rc3=$?
check '[[ $rc == 0 && $rc2 == 0 && $rc3 == 0 ]]' "openapi push exits 0: $rc $rc2 $rc3"
python3 - "$t/o.jsonl" "$t/o-export.json" "$t/endpoints.json" <<'PY' && ok || ko "openapi deliveries"
import json, sys
log = [json.loads(l) for l in open(sys.argv[1])]
export = json.load(open(sys.argv[2]))
eps = json.load(open(sys.argv[3]))
assert len(log) == 2, len(log)            # the first push, then the change; not the no-op
assert all(r["valid"] and 200 <= r["status"] < 300 for r in log)
b = [json.loads(r["body"]) for r in log]
assert [x["type"] for x in b] == ["apiroster.openapi"] * 2, b[0]["type"]
assert [x["changes"] for x in b] == [len(eps), 1], [x["changes"] for x in b]
assert b[0]["openapi"] == export, "pushed document differs from apiroster export openapi"
ops = sum(1 for p in export["paths"].values() for m in p if m in ("get", "post", "put", "delete", "patch", "head", "options", "trace"))
assert ops == len([e for e in eps if e["state"] != "noise"]) == 12, (ops, len(eps))   # scanner noise is not API
assert b[0]["id"] == log[0]["id"] and b[0]["health"]["exchanges"] == 22, b[0]["health"]
PY

# ---- 9. config errors: file:line, exit 2; header values never printed
printf '[push]\nurl = http://127.0.0.1:9/\nformat = yaml\nsecret_file = %s\n' "$t/secret" > "$t/x1.conf"
out=$("$BIN" push --config "$t/x1.conf" --db "$t/a.db" 2>&1); rc=$?
check '[[ $rc == 2 && $out == *"x1.conf:3: bad value '"'"'yaml'"'"' for push.format"* ]]' "unknown format refused: rc=$rc $out"
printf 'X-Ok: fine\nbroken line secret-value-991\n' > "$t/badh"
printf '[push]\nurl = http://127.0.0.1:9/\nsecret_file = %s\nheaders_file = %s\n' "$t/secret" "$t/badh" > "$t/x2.conf"
out=$("$BIN" push --config "$t/x2.conf" --db "$t/a.db" 2>&1); rc=$?
check '[[ $rc == 2 && $out == *"badh:2: expected '"'"'Name: value'"'"'"* && $out != *secret-value-991* ]]' "bad header line: rc=$rc $out"
printf '[push]\nurl = http://127.0.0.1:9/\n' > "$t/x3.conf"
out=$("$BIN" push --config "$t/x3.conf" --db "$t/a.db" 2>&1); rc=$?
check '[[ $rc == 2 && $out == *"x3.conf:1: no secret_file"* ]]' "no secret: rc=$rc $out"
out=$("$BIN" push --db "$t/a.db" 2>&1); rc=$?
check '[[ $rc == 2 && $out == *"no push target"* ]]' "no target: rc=$rc"
out=$("$BIN" push --config "$t/a.conf" --db "$t/missing.db" 2>&1); rc=$?
check '[[ $rc == 2 && $out == *"missing.db: no such database"* && ! -e $t/missing.db ]]' "missing database: rc=$rc $out"
out=$("$BIN" push --config "$t/a.conf" --db "$t/a.db" --bogus 2>&1); rc=$?
check '[[ $rc == 2 ]]' "bad usage: exit 2"

# ---- 10. planted credentials: in no body, no database, no log
for secret in sample-not-a-real-token sample-key not-a-real-session secret+words; do
  hit=""
  for db in "$t"/*.db; do sqlite3 "$db" .dump | grep -qF "$secret" && hit="$hit $db"; done
  grep -lF "$secret" "$t"/*.jsonl "$t/logs.txt" "$t"/*.out "$t/dry.txt" >/dev/null 2>&1 && hit="$hit logs"
  check '[[ -z $hit ]]' "'$secret' found in:$hit"
done
check 'grep -q "sample-not-a-real-token" <(strings "$SRC/samples/sample.pcap")' "the planted token is in the capture"
check '! grep -qF "pipeline-header-value-7731" "$t/logs.txt"' "extra header values are not logged"

echo "push: $pass passed, $fail failed"
((fail == 0))
